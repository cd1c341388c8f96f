package audit

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Limits from RFC 6265bis-22 §5.6 and §5.7.
const (
	maxNameValueBytes = 4096
	maxAttrValueBytes = 1024
	maxCookieLifetime = 400 * 24 * time.Hour
)

// Cookie name prefixes (RFC 6265bis-22 §4.1.3), in their canonical case.
const (
	PrefixSecure = "__Secure-"
	PrefixHost   = "__Host-"
)

// Attr is one cookie attribute as written: original case, in order,
// including ones the browser ignores (unknown, oversized, unparseable).
type Attr struct {
	Name, Value string
}

// SetCookie is one parsed Set-Cookie line and what a browser makes of it.
type SetCookie struct {
	Raw         string
	Name, Value string

	// Domain is the last Domain attribute, leading dot stripped and
	// lowercased; "" (HostOnly) when absent or when the last one is empty.
	Domain   string
	HostOnly bool
	// Path is the last valid Path attribute, else the default path of the
	// request URL (PathDefaulted).
	Path          string
	PathDefaulted bool

	Secure, HttpOnly, Partitioned bool

	// SameSite is "Strict", "Lax" or "None"; "" when absent or when the last
	// SameSite attribute has an unknown value. SameSiteRaw is that last
	// value as written ("" if there is no SameSite attribute at all).
	SameSite    string
	SameSiteRaw string

	// MaxAge is the last valid Max-Age, nil if none. Expires is the last
	// parseable Expires, zero if none. Both are as written (not capped).
	MaxAge  *int64
	Expires time.Time
	// Deletion: Max-Age<=0, or (without Max-Age) Expires not after now.
	Deletion bool

	// Prefix is PrefixSecure, PrefixHost or "" (matched case-insensitively).
	Prefix string
	Attrs  []Attr

	// Ignored is non-empty when a browser would ignore or reject the whole
	// cookie, and says why (the first reason found).
	Ignored string
	Session Confidence
}

// void reports whether the line was void as a whole (ParseSetCookie
// returned an error): a browser ignores it before reading any attribute.
func (c *SetCookie) void() bool { return c.Name == "" && c.Value == "" }

// ExpiresAt is when a browser drops the cookie: Max-Age beats Expires, and
// the lifetime is capped at 400 days (RFC 6265bis-22 §5.6.1, §5.6.2). A zero
// time means a session cookie (dropped when the browser closes).
func (c *SetCookie) ExpiresAt(now time.Time) time.Time {
	limit := now.Add(maxCookieLifetime)
	switch {
	case c.MaxAge != nil:
		if *c.MaxAge <= 0 {
			return time.Unix(0, 0).UTC()
		}
		if *c.MaxAge >= int64(maxCookieLifetime/time.Second) {
			return limit
		}
		return now.Add(time.Duration(*c.MaxAge) * time.Second)
	case !c.Expires.IsZero():
		if c.Expires.After(limit) {
			return limit
		}
		return c.Expires
	}
	return time.Time{}
}

// ParseSetCookie parses one Set-Cookie header value as a browser would,
// following RFC 6265bis-22 §5.6 and the storage checks of §5.7.
// requestURL is the URL of the request the response answered: it gives the
// default path, the host the Domain attribute must cover, and whether the
// origin is secure (https, wss, or a localhost name or loopback address, as
// browsers have it). With a nil requestURL the origin checks are skipped and
// the default path is "/".
//
// The error (wrapping ErrVoidCookie) is returned only when the line is void
// as a whole; the returned value then still carries Raw and Ignored. A cookie
// the browser would reject for other reasons is returned without error and
// with Ignored set.
func ParseSetCookie(line string, requestURL *url.URL, now time.Time) (SetCookie, error) {
	var maxAge int64
	return parseSetCookie(line, originOf(requestURL), now, nil, &maxAge)
}

// requestOrigin is what the parser needs from the request URL, computed
// once per flow rather than once per Set-Cookie line.
type requestOrigin struct {
	known  bool   // false: no request URL, skip the origin checks
	host   string // lowercase, without port
	path   string // escaped request path
	secure bool   // https, wss, or a localhost name or loopback address
}

func originOf(u *url.URL) requestOrigin {
	if u == nil {
		return requestOrigin{secure: true, path: "/"}
	}
	host := strings.ToLower(u.Hostname())
	return requestOrigin{known: true, host: host, path: u.EscapedPath(),
		secure: isSecureScheme(u.Scheme) || isLocalHost(host)}
}

// parseSetCookie is ParseSetCookie with the origin precomputed. Attributes
// are appended to attrBuf (whose spare capacity a caller parsing many lines
// shares between them), and maxAgeSlot backs MaxAge, so parsing a flow's
// cookies costs two allocations in all rather than two per line.
func parseSetCookie(line string, origin requestOrigin, now time.Time, attrBuf []Attr, maxAgeSlot *int64) (SetCookie, error) {
	c := SetCookie{Raw: line}
	if i := controlCharIndex(line); i >= 0 {
		c.Ignored = "control character in the line"
		return c, fmt.Errorf("audit: Set-Cookie: control character 0x%02x at byte %d: %w", line[i], i, ErrVoidCookie)
	}
	pair, attrs, _ := cutByte(line, ';')
	if name, value, ok := cutByte(pair, '='); ok {
		c.Name, c.Value = trimWSP(name), trimWSP(value)
	} else {
		c.Value = trimWSP(pair) // no '=': an empty name (§5.6 step 3)
	}
	if c.Name == "" && c.Value == "" {
		c.Ignored = "neither name nor value"
		return c, fmt.Errorf("audit: Set-Cookie: %w: neither name nor value", ErrVoidCookie)
	}

	var (
		maxAge             int64
		hasMaxAge, hasPath bool
		pathAttr           string
	)
	if attrs != "" {
		if attrBuf == nil {
			attrBuf = make([]Attr, 0, strings.Count(attrs, ";")+1)
		}
		c.Attrs = attrBuf[len(attrBuf):len(attrBuf)]
	}
	for attrs != "" {
		var av string
		av, attrs, _ = cutByte(attrs, ';')
		name, value, _ := cutByte(av, '=')
		name, value = trimWSP(name), trimWSP(value)
		if name == "" && value == "" {
			continue // an empty segment, e.g. a trailing ";"
		}
		c.Attrs = append(c.Attrs, Attr{Name: name, Value: value})
		if len(value) > maxAttrValueBytes {
			continue // §5.6 step 7: an oversized attribute is ignored
		}
		switch attrNameOf(name) {
		case attrExpires:
			if t, ok := parseCookieDate(value); ok {
				c.Expires = t
			}
		case attrMaxAge:
			if v, ok := parseMaxAge(value); ok {
				maxAge, hasMaxAge = v, true
			}
		case attrDomain:
			// The last Domain wins even when empty: an empty last Domain
			// makes the cookie host-only (§5.7 step 8).
			value = strings.TrimPrefix(value, ".")
			c.Domain = strings.ToLower(value)
		case attrPath:
			hasPath, pathAttr = true, value
		case attrSecure:
			c.Secure = true
		case attrHttpOnly:
			c.HttpOnly = true
		case attrPartitioned:
			c.Partitioned = true
		case attrSameSite:
			c.SameSiteRaw = value
			c.SameSite = normalSameSite(value)
		}
	}
	if c.Attrs != nil {
		c.Attrs = c.Attrs[:len(c.Attrs):len(c.Attrs)] // an append by the caller must not reach the next line's attributes
	}
	c.HostOnly = c.Domain == ""
	if hasPath && strings.HasPrefix(pathAttr, "/") {
		c.Path = pathAttr
	} else {
		c.Path, c.PathDefaulted = defaultPath(origin.path), true
	}
	if hasMaxAge {
		*maxAgeSlot = maxAge
		c.MaxAge = maxAgeSlot
		c.Deletion = maxAge <= 0
	} else if !c.Expires.IsZero() {
		c.Deletion = !c.Expires.After(now)
	}
	switch {
	case hasPrefixFold(c.Name, PrefixSecure):
		c.Prefix = PrefixSecure
	case hasPrefixFold(c.Name, PrefixHost):
		c.Prefix = PrefixHost
	}
	c.Session = ClassifySession(c.Name, c.Value)
	c.Ignored = rejection(&c, origin.secure, hasPath, origin.known, origin.host)
	return c, nil
}

// rejection is the first reason a browser would ignore the cookie, or "".
func rejection(c *SetCookie, secureOrigin, hasPathAttr, checkHost bool, reqHost string) string {
	switch {
	case len(c.Name)+len(c.Value) > maxNameValueBytes:
		return "name and value exceed 4096 bytes"
	case c.Name == "" && (hasPrefixFold(c.Value, PrefixSecure) || hasPrefixFold(c.Value, PrefixHost)):
		return "nameless cookie whose value starts with a __Secure-/__Host- prefix"
	case c.Secure && !secureOrigin:
		return "Secure cookie set by an http:// response"
	case checkHost && c.Domain != "" && !domainMatch(reqHost, c.Domain):
		return rejectDomain
	case checkHost && c.Domain != "" && c.Domain != reqHost && strings.IndexByte(c.Domain, '.') < 0:
		// §5.7 step 9 rejects public suffixes; without a suffix list, a
		// top-level domain is the case that is certain.
		return rejectPublicSuffix
	case c.SameSite == "None" && !c.Secure:
		return "SameSite=None without Secure"
	case c.Prefix == PrefixSecure && (!c.Secure || !secureOrigin):
		return "__Secure- prefix without Secure from a secure origin"
	case c.Prefix == PrefixHost && (!c.Secure || !secureOrigin || !c.HostOnly || !hasPathAttr || c.Path != "/"):
		return "__Host- prefix needs Secure, a secure origin, no Domain and Path=/"
	case c.Partitioned && !c.Secure:
		return "Partitioned without Secure"
	}
	return ""
}

// cookieAttr identifies the attributes RFC 6265bis (and CHIPS) define.
type cookieAttr uint8

const (
	attrUnknown cookieAttr = iota
	attrExpires
	attrMaxAge
	attrDomain
	attrPath
	attrSecure
	attrHttpOnly
	attrPartitioned
	attrSameSite
)

// attrNameOf matches an attribute name case-insensitively, switching on
// its length first so most names cost one comparison.
func attrNameOf(name string) cookieAttr {
	switch len(name) {
	case 4:
		if equalFoldASCII(name, "path") {
			return attrPath
		}
	case 6:
		switch {
		case equalFoldASCII(name, "domain"):
			return attrDomain
		case equalFoldASCII(name, "secure"):
			return attrSecure
		}
	case 7:
		switch {
		case equalFoldASCII(name, "expires"):
			return attrExpires
		case equalFoldASCII(name, "max-age"):
			return attrMaxAge
		}
	case 8:
		switch {
		case equalFoldASCII(name, "httponly"):
			return attrHttpOnly
		case equalFoldASCII(name, "samesite"):
			return attrSameSite
		}
	case 11:
		if equalFoldASCII(name, "partitioned") {
			return attrPartitioned
		}
	}
	return attrUnknown
}

// controlCharIndex finds %x00-08 / %x0A-1F / %x7F (tab is allowed).
func controlCharIndex(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7F {
			return i
		}
	}
	return -1
}

// parseMaxAge follows §5.6.2: an optional '-' then digits only. Values
// beyond int64 saturate; they are capped at 400 days anyway.
func parseMaxAge(v string) (int64, bool) {
	neg := strings.HasPrefix(v, "-")
	digits := v
	if neg {
		digits = v[1:]
	}
	if digits == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, false
		}
		d := int64(digits[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	if neg {
		return -n, true
	}
	return n, true
}

func normalSameSite(v string) string {
	switch {
	case equalFoldASCII(v, "strict"):
		return "Strict"
	case equalFoldASCII(v, "lax"):
		return "Lax"
	case equalFoldASCII(v, "none"):
		return "None"
	}
	return ""
}

// defaultPath is §5.1.4: the request path up to, not including, its last
// '/', or "/" when that leaves nothing.
func defaultPath(reqPath string) string {
	if !strings.HasPrefix(reqPath, "/") {
		return "/"
	}
	i := strings.LastIndexByte(reqPath, '/')
	if i == 0 {
		return "/"
	}
	return reqPath[:i]
}

// RequestCookie is one name=value pair from a Cookie request header.
type RequestCookie struct {
	Name, Value string
	Session     Confidence
}

// ParseCookieHeader splits a Cookie header value into its pairs, in order.
// Pairs are separated by ';' and trimmed; a pair without '=' has an empty
// name (that is how browsers serialise a nameless cookie). Empty pairs are
// skipped. Call it once per Cookie header field (HTTP/2 may send several).
func ParseCookieHeader(v string) []RequestCookie {
	var out []RequestCookie
	for v != "" {
		var pair string
		pair, v, _ = cutByte(v, ';')
		name, value, ok := cutByte(pair, '=')
		if !ok {
			name, value = "", name
		}
		name, value = trimWSP(name), trimWSP(value)
		if name == "" && value == "" {
			continue
		}
		if out == nil {
			out = make([]RequestCookie, 0, strings.Count(v, ";")+1)
		}
		out = append(out, RequestCookie{Name: name, Value: value, Session: ClassifySession(name, value)})
	}
	return out
}
