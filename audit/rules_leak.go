package audit

import (
	"net/url"
	"strings"

	"onpath/flow"
)

// urlLeak is one LK01 hit in a URL.
type urlLeak struct {
	where    string // "query: NAME" or "path: ;jsessionid="
	personal bool   // an email or card number (low), not a secret (medium)
	what     string // why it matched
}

// minSecretValueLen: LK01 reports a P(name) parameter only when its value
// is longer than this (short values are flags like token=1).
const minSecretValueLen = 8

// urlLeaks calls fn with each LK01 match in u: P(name) parameters with a
// value longer than 8, JWT-shaped values, ;jsessionid= in the path, email
// addresses and Luhn-valid card numbers. fn returns false to stop.
func urlLeaks(u *url.URL, fn func(urlLeak) bool) {
	if containsFold(u.EscapedPath(), ";jsessionid=") || containsFold(u.Opaque, ";jsessionid=") {
		if !fn(urlLeak{where: "path: ;jsessionid=", what: "session id in the path"}) {
			return
		}
	}
	ScanFields(u.RawQuery, func(name, value string) bool {
		switch {
		case isJWT(value):
			return fn(urlLeak{where: "query: " + name, what: "JWT"})
		case isSecretName(name) && len(value) > minSecretValueLen:
			return fn(urlLeak{where: "query: " + name, what: "secret"})
		case isEmail(value):
			return fn(urlLeak{where: "query: " + name, personal: true, what: "email address"})
		case isCardNumber(value):
			return fn(urlLeak{where: "query: " + name, personal: true, what: "card number"})
		}
		return true
	})
}

// urlLeakRules are LK01 (secrets in the request URL) and LK02 (a
// cross-host Referer that carries such secrets to this host).
func (r *run) urlLeakRules() {
	if r.url == nil {
		return
	}
	n := 0
	urlLeaks(r.url, func(l urlLeak) bool {
		sev := flow.SeverityMedium
		if l.personal {
			sev = flow.SeverityLow
		}
		r.add(RuleSecretInURL, sev,
			l.what+" in the URL: URLs leak via logs, history and Referer, even over https",
			l.where, "send it in a header or the POST body instead of the URL")
		n++
		return n < maxFieldFindings
	})

	ref := headerValue(r.f.Request.Header, "Referer")
	if ref == "" {
		return
	}
	ru, err := url.Parse(ref)
	if err != nil || ru.Host == "" || strings.EqualFold(ru.Hostname(), r.host) {
		return
	}
	n = 0
	urlLeaks(ru, func(l urlLeak) bool {
		r.add(RuleSecretInReferer, flow.SeverityMedium,
			"the Referer from another site carries a "+l.what+": already disclosed to this host",
			"Referer: "+refHost(ru)+" "+l.where,
			"on "+ru.Hostname()+": keep it out of the URL and send Referrer-Policy: strict-origin-when-cross-origin")
		n++
		return n < maxFieldFindings
	})
}

// isEmail is a loose shape test: local@domain.tld, no spaces.
func isEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	if at <= 0 || at != strings.LastIndexByte(v, '@') || strings.ContainsAny(v, " \t<>,;") {
		return false
	}
	domain := v[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-2
}

// isCardNumber: 13–19 digits (spaces or dashes allowed between them) that
// pass the Luhn check and are not one digit repeated.
func isCardNumber(v string) bool {
	var digits [19]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			if n == len(digits) {
				return false
			}
			digits[n] = c - '0'
			n++
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	if n < 13 {
		return false
	}
	same := true
	sum := 0
	for i := range n {
		d := int(digits[n-1-i])
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		if digits[i] != digits[0] {
			same = false
		}
	}
	return sum%10 == 0 && !same
}
