package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"onpath/flow"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("query syntax")

// SyntaxError names the term that could not be parsed and why.
type SyntaxError struct {
	Term   string // the term as written, e.g. "status:4yx"; its key ("status") when known
	Reason string
}

func (e *SyntaxError) Error() string { return e.Term + ": " + e.Reason }

func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Query is a parsed filter. The zero value (and Parse("")) matches every flow.
// A Query is safe for concurrent use once parsed, as long as Decode is not
// changed while matching.
type Query struct {
	// Decode undoes a Content-Encoding before body: terms search a body;
	// nil means content.Decode. A body that does not decode is searched raw.
	Decode func(encoding string, raw []byte, limit int64) ([]byte, error)

	terms []term
}

// term is one condition. Exactly one of onSummary and onFlow is set:
// onSummary when a flow.Summary is enough to decide.
type term struct {
	negate    bool
	canonical string // without the leading "-"
	onSummary func(*flow.Summary) bool
	onFlow    func(*Query, *flow.Flow) bool
	bodies    bool
}

// keys lists the term names Parse knows, for error messages.
const keys = "host, method, status, scheme, has, severity, cookie, header, body, id, kind, replay"

// Parse reads a query. Errors wrap ErrSyntax and are *SyntaxError values
// naming the term and the reason.
func Parse(s string) (*Query, error) {
	tokens, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	q := &Query{}
	for _, tok := range tokens {
		t, err := parseToken(tok)
		if err != nil {
			return nil, err
		}
		if t == nil {
			continue
		}
		q.terms = append(q.terms, *t)
	}
	return q, nil
}

// token is one space-separated word with its quotes removed.
type token struct {
	raw    string // as written, for error messages
	text   string // quotes removed, leading "-" removed when negate
	negate bool
	colon  int  // index in text of the first colon outside quotes, -1 if none
	quoted bool // some part of text was quoted
}

func tokenize(s string) ([]token, error) {
	var (
		tokens  []token
		cur     strings.Builder
		tok     = token{colon: -1}
		inQuote bool
		started bool
		start   int
	)
	flush := func(end int) {
		if !started {
			return
		}
		tok.raw = s[start:end]
		tok.text = cur.String()
		tokens = append(tokens, tok)
		cur.Reset()
		tok = token{colon: -1}
		started = false
	}
	for i, r := range s {
		switch {
		case r == '"':
			if !started {
				started, start = true, i
			}
			inQuote = !inQuote
			tok.quoted = true
		case inQuote:
			cur.WriteRune(r)
		case unicode.IsSpace(r):
			flush(i)
		default:
			if !started {
				started, start = true, i
				if r == '-' {
					tok.negate = true
					continue
				}
			}
			if r == ':' && tok.colon < 0 {
				tok.colon = cur.Len()
			}
			cur.WriteRune(r)
		}
	}
	if inQuote {
		return nil, &SyntaxError{Term: s[start:], Reason: "unterminated quote (a phrase needs a closing \")"}
	}
	flush(len(s))
	return tokens, nil
}

// isKey reports whether name (lower case) is a term Parse knows.
func isKey(name string) bool {
	for k := range strings.SplitSeq(keys, ", ") {
		if k == name {
			return true
		}
	}
	return false
}

func parseToken(tok token) (*term, error) {
	// NAME://… is a URL to search for (http://example.com), unless NAME is
	// a term: method:|// is a method term whose canonical form reads
	// method://, and it must read back as the same term.
	url := tok.colon >= 0 && strings.HasPrefix(tok.text[tok.colon+1:], "//") && !isKey(strings.ToLower(tok.text[:tok.colon]))
	if tok.colon < 0 || url {
		if tok.text == "" {
			if tok.negate && !tok.quoted {
				return nil, &SyntaxError{Term: tok.raw, Reason: "nothing to negate after \"-\""}
			}
			return nil, nil
		}
		return textTerm(tok.negate, tok.text), nil
	}
	key := strings.ToLower(tok.text[:tok.colon])
	value := tok.text[tok.colon+1:]
	bad := func(format string, args ...any) error {
		return &SyntaxError{Term: key, Reason: fmt.Sprintf(format, args...)}
	}
	t := &term{negate: tok.negate}
	switch key {
	case "host":
		pats := splitAlternatives(strings.ToLower(value))
		if pats == nil {
			return nil, bad("needs a host or a glob like *.example.com")
		}
		t.onSummary = func(s *flow.Summary) bool {
			h := strings.ToLower(urlHost(s.URL))
			for _, p := range pats {
				if glob(p, h) {
					return true
				}
			}
			return false
		}
		t.canonical = key + ":" + quoteValue(strings.Join(pats, "|"))
	case "method":
		methods := splitAlternatives(strings.ToUpper(value))
		if methods == nil {
			return nil, bad("needs a method like GET or GET|POST")
		}
		t.onSummary = func(s *flow.Summary) bool {
			for _, m := range methods {
				if strings.EqualFold(s.Method, m) {
					return true
				}
			}
			return false
		}
		t.canonical = key + ":" + quoteValue(strings.Join(methods, "|"))
	case "status":
		ranges, err := parseRanges(value, parseStatus)
		if err != nil {
			return nil, bad("%v", err)
		}
		t.onSummary = func(s *flow.Summary) bool { return ranges.contains(uint64(s.Status)) }
		t.canonical = key + ":" + ranges.String()
	case "id":
		ranges, err := parseRanges(value, parseID)
		if err != nil {
			return nil, bad("%v", err)
		}
		t.onSummary = func(s *flow.Summary) bool { return ranges.contains(uint64(s.ID)) }
		t.canonical = key + ":" + ranges.String()
	case "scheme":
		schemes := splitAlternatives(strings.ToLower(value))
		if schemes == nil {
			return nil, bad("needs a scheme: http or https")
		}
		t.onSummary = func(s *flow.Summary) bool {
			got := urlScheme(s.URL)
			for _, sc := range schemes {
				if strings.EqualFold(got, sc) {
					return true
				}
			}
			return false
		}
		t.canonical = key + ":" + quoteValue(strings.Join(schemes, "|"))
	case "kind":
		kinds := splitAlternatives(strings.ToLower(value))
		if kinds == nil {
			return nil, bad("needs a kind: http or tunnel")
		}
		for _, k := range kinds {
			if k != string(flow.KindHTTP) && k != string(flow.KindTunnel) {
				return nil, bad("%q is not a kind (http or tunnel)", k)
			}
		}
		t.onSummary = func(s *flow.Summary) bool {
			for _, k := range kinds {
				if string(s.Kind) == k {
					return true
				}
			}
			return false
		}
		t.canonical = key + ":" + strings.Join(kinds, "|")
	case "severity":
		level, err := flow.ParseSeverity(strings.ToLower(value))
		if err != nil {
			return nil, bad("%q is not a severity (info, low, medium or high)", value)
		}
		t.onSummary = func(s *flow.Summary) bool { return s.Worst >= level }
		t.canonical = key + ":" + level.String()
	case "replay":
		of, err := strconv.ParseUint(value, 10, 64)
		if err != nil || of == 0 {
			return nil, bad("%q is not a flow id (replay:7 lists the replays of flow 7; has:replay lists all replays)", value)
		}
		t.onSummary = func(s *flow.Summary) bool { return uint64(s.ReplayOf) == of }
		t.canonical = key + ":" + strconv.FormatUint(of, 10)
	case "has":
		what := strings.ToLower(value)
		switch what {
		case "finding":
			t.onSummary = func(s *flow.Summary) bool { return s.Worst > flow.SeverityNone }
		case "error":
			t.onSummary = func(s *flow.Summary) bool { return s.ErrorPhase != "" }
		case "body":
			t.onSummary = func(s *flow.Summary) bool {
				return s.Kind != flow.KindTunnel && (s.RequestSize > 0 || s.ResponseSize > 0)
			}
		case "replay":
			t.onSummary = func(s *flow.Summary) bool { return s.ReplayOf != 0 }
		case "import":
			t.onSummary = func(s *flow.Summary) bool { return s.Imported }
		case "cookie":
			t.onFlow = func(_ *Query, f *flow.Flow) bool { return hasCookie(f) }
		default:
			return nil, bad("%q is not something a flow has (finding, error, body, cookie, replay or import)", value)
		}
		t.canonical = key + ":" + what
	case "cookie":
		if value == "" {
			return nil, bad("needs a cookie name")
		}
		t.onFlow = func(_ *Query, f *flow.Flow) bool { return hasCookieNamed(f, value) }
		t.canonical = key + ":" + quoteValue(value)
	case "header":
		name, want, hasValue := strings.Cut(value, "=")
		if name == "" {
			return nil, bad("needs a header name, like header:Authorization or header:\"X-A=b c\"")
		}
		want = strings.ToLower(want)
		t.onFlow = func(_ *Query, f *flow.Flow) bool { return hasHeader(f, name, want) }
		if hasValue {
			t.canonical = key + ":" + quoteValue(name+"="+want)
		} else {
			t.canonical = key + ":" + quoteValue(name)
		}
	case "body":
		if value == "" {
			return nil, bad("needs the text to search for")
		}
		want := strings.ToLower(value)
		t.onFlow = func(q *Query, f *flow.Flow) bool { return q.bodyContains(f, want) }
		t.bodies = true
		t.canonical = key + ":" + quoteValue(want)
	default:
		return nil, &SyntaxError{Term: tok.raw, Reason: fmt.Sprintf(
			"unknown term %q (known: %s); to search the URL for this text, quote it: %q", key+":", keys, tok.text)}
	}
	return t, nil
}

// textTerm matches a substring of the URL, case-insensitively.
func textTerm(negate bool, text string) *term {
	want := strings.ToLower(text)
	return &term{
		negate:    negate,
		canonical: quoteText(want),
		onSummary: func(s *flow.Summary) bool { return containsFold(s.URL, want) },
	}
}

func splitAlternatives(v string) []string {
	var out []string
	for alt := range strings.SplitSeq(v, "|") {
		if alt != "" {
			out = append(out, alt)
		}
	}
	return out
}

// quoteValue quotes a term value when it holds spaces (or is empty).
func quoteValue(v string) string {
	if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
		return `"` + v + `"`
	}
	return v
}

// quoteText quotes free text that would otherwise read as a term or a negation.
func quoteText(v string) string {
	if strings.ContainsFunc(v, unicode.IsSpace) || strings.HasPrefix(v, "-") || strings.Contains(v, ":") {
		return `"` + v + `"`
	}
	return v
}

// String is the canonical text of the query; Parse(q.String()) is
// equivalent to q.
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	parts := make([]string, len(q.terms))
	for i, t := range q.terms {
		if t.negate {
			parts[i] = "-" + t.canonical
		} else {
			parts[i] = t.canonical
		}
	}
	return strings.Join(parts, " ")
}

// NeedsFlow reports whether some term needs the full record (headers,
// cookies, bodies); when false, MatchSummary decides alone.
func (q *Query) NeedsFlow() bool {
	if q == nil {
		return false
	}
	for _, t := range q.terms {
		if t.onSummary == nil {
			return true
		}
	}
	return false
}

// NeedsBodies reports whether some term searches message bodies.
func (q *Query) NeedsBodies() bool {
	if q == nil {
		return false
	}
	for _, t := range q.terms {
		if t.bodies {
			return true
		}
	}
	return false
}

// Empty reports whether the query has no terms (and matches everything).
func (q *Query) Empty() bool { return q == nil || len(q.terms) == 0 }
