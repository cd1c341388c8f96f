package har

import (
	"bytes"
	"encoding/json"
	"strconv"

	"onpath/flow"
)

// The JSON shapes of HAR 1.2. Optional HAR fields are pointers or carry
// omitempty; required ones are always written.

type document struct {
	Log *logObject `json:"log"`
}

type logObject struct {
	Version string          `json:"version"`
	Creator creator         `json:"creator"`
	Browser *creator        `json:"browser,omitempty"`
	Pages   json.RawMessage `json:"pages,omitempty"`
	Entries []entry         `json:"entries"`
	Comment string          `json:"comment,omitempty"`
}

type creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

type entry struct {
	Pageref         string          `json:"pageref,omitempty"`
	StartedDateTime string          `json:"startedDateTime"`
	Time            float64         `json:"time"`
	Request         request         `json:"request"`
	Response        response        `json:"response"`
	Cache           json.RawMessage `json:"cache"`
	Timings         timings         `json:"timings"`
	ServerIPAddress looseString     `json:"serverIPAddress,omitempty"`
	Connection      looseString     `json:"connection,omitempty"`
	Comment         string          `json:"comment,omitempty"`
	Onpath          *onpathEntry    `json:"_onpath,omitempty"`
}

type request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     cookieList  `json:"cookies"`
	Headers     []nameValue `json:"headers"`
	QueryString []nameValue `json:"queryString"`
	PostData    *postData   `json:"postData,omitempty"`
	HeadersSize lenientInt  `json:"headersSize"`
	BodySize    lenientInt  `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
}

type response struct {
	Status      int             `json:"status"`
	StatusText  string          `json:"statusText"`
	HTTPVersion string          `json:"httpVersion"`
	Cookies     cookieList      `json:"cookies"`
	Headers     []nameValue     `json:"headers"`
	Content     responseContent `json:"content"`
	RedirectURL string          `json:"redirectURL"`
	HeadersSize lenientInt      `json:"headersSize"`
	BodySize    lenientInt      `json:"bodySize"`
	Comment     string          `json:"comment,omitempty"`
	// ChromeError is Chrome's reason for a request without a response
	// (e.g. "net::ERR_NAME_NOT_RESOLVED"); read, never written.
	ChromeError string `json:"_error,omitempty"`
}

type nameValue struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Comment string `json:"comment,omitempty"`
}

type cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Path     string  `json:"path,omitempty"`
	Domain   string  `json:"domain,omitempty"`
	Expires  *string `json:"expires,omitempty"`
	HTTPOnly *bool   `json:"httpOnly,omitempty"`
	Secure   *bool   `json:"secure,omitempty"`
	SameSite string  `json:"sameSite,omitempty"`
	Comment  string  `json:"comment,omitempty"`
}

type postData struct {
	MimeType string  `json:"mimeType"`
	Params   []param `json:"params,omitempty"`
	Text     string  `json:"text"`
	// Encoding is not in HAR 1.2 for post data, but Charles and others
	// write "base64" here for binary bodies; onpath does the same.
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type param struct {
	Name        string  `json:"name"`
	Value       *string `json:"value,omitempty"`
	FileName    string  `json:"fileName,omitempty"`
	ContentType string  `json:"contentType,omitempty"`
	Comment     string  `json:"comment,omitempty"`
}

type responseContent struct {
	Size        lenientInt  `json:"size"`
	Compression *lenientInt `json:"compression,omitempty"`
	MimeType    string      `json:"mimeType"`
	Text        *string     `json:"text,omitempty"`
	Encoding    string      `json:"encoding,omitempty"`
	Comment     string      `json:"comment,omitempty"`
}

type timings struct {
	Blocked *float64 `json:"blocked,omitempty"`
	DNS     *float64 `json:"dns,omitempty"`
	Connect *float64 `json:"connect,omitempty"`
	Send    float64  `json:"send"`
	Wait    float64  `json:"wait"`
	Receive float64  `json:"receive"`
	SSL     *float64 `json:"ssl,omitempty"`
	Comment string   `json:"comment,omitempty"`
}

// onpathEntry is the custom "_onpath" object: what HAR cannot carry.
type onpathEntry struct {
	ID       flow.ID        `json:"id"`
	ReplayOf flow.ID        `json:"replay_of,omitempty"`
	Forced   bool           `json:"forced,omitempty"`
	Kind     flow.Kind      `json:"kind"`
	Error    *flow.Error    `json:"error,omitempty"`
	Findings []flow.Finding `json:"findings,omitempty"`
	// ClientAddr and ServerAddr are the peers' exact addresses.
	ClientAddr string       `json:"client_addr,omitempty"`
	ServerAddr string       `json:"server_addr,omitempty"`
	TLS        *onpathTLS   `json:"tls,omitempty"`
	Tunnel     *flow.Tunnel `json:"tunnel,omitempty"`
	// Timings are the exact instants; the HAR timings are rounded durations.
	Timings      *flow.Timings `json:"timings,omitempty"`
	RequestBody  *onpathBody   `json:"request_body,omitempty"`
	ResponseBody *onpathBody   `json:"response_body,omitempty"`
	Trailer      []nameValue   `json:"response_trailer,omitempty"`
}

type onpathTLS struct {
	Client *flow.TLSInfo `json:"client,omitempty"`
	Server *flow.TLSInfo `json:"server,omitempty"`
}

// onpathBody carries a body as captured when the HAR content does not
// give it back byte for byte.
type onpathBody struct {
	// Size is the full size on the wire.
	Size      int64 `json:"size"`
	Truncated bool  `json:"truncated,omitempty"`
	// Raw is the captured wire bytes (base64 in JSON), present when the
	// HAR text is a decoded or re-encoded form of them.
	Raw []byte `json:"raw,omitempty"`
	// Note says why Raw is there, for people reading the file.
	Note string `json:"note,omitempty"`
}

// cookieList reads leniently: the cookies arrays only repeat the Cookie
// and Set-Cookie headers, so a tool's odd cookie field (an expiry as a
// number, say) must not make a whole file unreadable.
type cookieList []cookie

func (l *cookieList) UnmarshalJSON(b []byte) error {
	var strict []cookie
	if json.Unmarshal(b, &strict) == nil {
		*l = strict
		return nil
	}
	*l = nil
	return nil
}

// lenientInt is a size: written as an integer, read from any JSON number
// (some tools write 123.0) or null.
type lenientInt int64

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = 0
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = lenientInt(f)
	return nil
}

// looseString accepts a JSON string or number: tools disagree on the type
// of "connection" and "serverIPAddress".
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := strconv.ParseFloat(string(n), 64); err != nil {
		return err
	}
	*s = looseString(n)
	return nil
}
