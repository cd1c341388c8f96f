package query

import (
	"bytes"
	"net/http"
	"strings"
	"unicode/utf8"

	"onpath/flow"
	"onpath/flow/content"
)

// decodeLimit bounds a decoded body searched by body: so a compression
// bomb cannot exhaust memory.
const decodeLimit = 64 << 20

// MatchSummary reports whether s matches. It is only meaningful when
// NeedsFlow is false; terms that need the record do not match here.
func (q *Query) MatchSummary(s *flow.Summary) bool {
	if q == nil {
		return true
	}
	for i := range q.terms {
		t := &q.terms[i]
		if t.onSummary == nil {
			return false
		}
		if t.onSummary(s) == t.negate {
			return false
		}
	}
	return true
}

// MayMatch reports whether s passes every term a summary can decide,
// ignoring the terms that need the record. When it is false the flow does
// not match, so a store can skip decoding its record.
func (q *Query) MayMatch(s *flow.Summary) bool {
	if q == nil {
		return true
	}
	for i := range q.terms {
		t := &q.terms[i]
		if t.onSummary != nil && t.onSummary(s) == t.negate {
			return false
		}
	}
	return true
}

// Match reports whether f matches. It is always valid; body: terms search
// f's bodies, so load them first when NeedsBodies is true.
func (q *Query) Match(f *flow.Flow) bool {
	if q == nil || len(q.terms) == 0 {
		return true
	}
	s := f.Summarize()
	for i := range q.terms {
		t := &q.terms[i]
		var ok bool
		if t.onSummary != nil {
			ok = t.onSummary(&s)
		} else {
			ok = t.onFlow(q, f)
		}
		if ok == t.negate {
			return false
		}
	}
	return true
}

// urlHost returns the host of an absolute URL without the port, without
// allocating (a full url.Parse per flow is too slow for a million flows).
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i >= 0 {
			return u[1:i]
		}
		return u[1:]
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return u
}

func urlScheme(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		return u[:i]
	}
	return ""
}

// glob matches name against pattern where * stands for any run of
// characters (including dots) and everything else is literal.
func glob(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return len(name) >= len(last) && strings.HasSuffix(name, last)
}

// containsFold reports whether s contains lowerSub, ignoring case; lowerSub
// is already lower case. ASCII needles avoid allocating.
func containsFold(s, lowerSub string) bool {
	if lowerSub == "" {
		return true
	}
	if !isASCII(lowerSub) {
		return strings.Contains(strings.ToLower(s), lowerSub)
	}
	n := len(lowerSub)
	first := lowerSub[0]
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerASCII(s[i+j]) == lowerSub[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// headers returns the request headers and, when there is a response, the
// response headers.
func headers(f *flow.Flow) []http.Header {
	hs := []http.Header{f.Request.Header}
	if f.Response != nil {
		hs = append(hs, f.Response.Header)
	}
	return hs
}

// headerValues collects the values of name in h, matching the name
// case-insensitively (HTTP/2 and imported flows may not use canonical keys).
func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

func hasHeader(f *flow.Flow, name, lowerValue string) bool {
	for _, h := range headers(f) {
		for k, vs := range h {
			if !strings.EqualFold(k, name) {
				continue
			}
			if lowerValue == "" {
				return true
			}
			for _, v := range vs {
				if containsFold(v, lowerValue) {
					return true
				}
			}
		}
	}
	return false
}

// cookieNames lists the names of cookies the client sent (Cookie) and the
// server set (Set-Cookie).
func cookieNames(f *flow.Flow) []string {
	var names []string
	for _, line := range headerValues(f.Request.Header, "Cookie") {
		for pair := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(pair, "=")
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	if f.Response != nil {
		for _, line := range headerValues(f.Response.Header, "Set-Cookie") {
			pair, _, _ := strings.Cut(line, ";")
			name, _, _ := strings.Cut(pair, "=")
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

func hasCookie(f *flow.Flow) bool {
	if len(headerValues(f.Request.Header, "Cookie")) > 0 {
		return true
	}
	return f.Response != nil && len(headerValues(f.Response.Header, "Set-Cookie")) > 0
}

// hasCookieNamed matches cookie names case-insensitively: a search tool
// should not miss "SessionID" for "sessionid".
func hasCookieNamed(f *flow.Flow, name string) bool {
	for _, n := range cookieNames(f) {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (q *Query) bodyContains(f *flow.Flow, lowerText string) bool {
	if q.messageBodyContains(f.Request.Header, f.Request.Body.Data, lowerText) {
		return true
	}
	return f.Response != nil && q.messageBodyContains(f.Response.Header, f.Response.Body.Data, lowerText)
}

func (q *Query) messageBodyContains(h http.Header, raw []byte, lowerText string) bool {
	if len(raw) == 0 {
		return false
	}
	data := raw
	if enc := strings.Join(headerValues(h, "Content-Encoding"), ", "); enc != "" {
		data = q.decode(enc, raw)
	}
	return bytes.Contains(bytes.ToLower(data), []byte(lowerText))
}

// decode undoes the content encoding for searching. A truncated capture
// decodes partially; whatever was decoded is searched. When nothing can be
// decoded (an unknown coding, garbage) the raw bytes are searched.
func (q *Query) decode(encoding string, raw []byte) []byte {
	decode := q.Decode
	if decode == nil {
		decode = content.Decode
	}
	out, err := decode(encoding, raw, decodeLimit)
	if err != nil && len(out) == 0 {
		return raw
	}
	return out
}
