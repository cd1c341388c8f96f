package audit

import (
	"crypto/tls"
	"net/url"
	"strings"

	"onpath/flow"
)

// Caps on repeated findings of one rule in one flow, so a hostile page
// cannot flood the record.
const (
	maxFieldFindings = 10
	maxHTMLFindings  = 10
)

// hstsMinMaxAge is the max-age below which TX05 notes a short HSTS policy
// (180 days, the Mozilla Observatory's threshold).
const hstsMinMaxAge = 15552000

// credentialRules is TX01 (credentials in a plain-http request) and TX02
// (a plain-http response asking for Basic or Digest credentials).
func (r *run) credentialRules() {
	if r.https || r.url == nil {
		return
	}
	const fix = "send credentials over https only (redirect http:// to https:// first)"
	if v := headerValue(r.f.Request.Header, "Authorization"); v != "" {
		scheme, _, _ := cutByte(trimWSP(v), ' ')
		msg := "Authorization header sent over plain http: credentials in clear"
		if equalFoldASCII(scheme, "basic") {
			msg = "Basic credentials sent over plain http: base64 is not encryption"
		}
		r.add(RuleCredentialsOverHTTP, flow.SeverityHigh, msg, authorizationEvidence(scheme), fix)
	}
	seen := make(map[string]bool)
	report := func(source, name, value string) bool {
		if value == "" || !isSecretName(name) {
			return true
		}
		ev := source + ": " + name
		if !seen[ev] {
			seen[ev] = true
			r.add(RuleCredentialsOverHTTP, flow.SeverityHigh,
				"secret-looking field sent over plain http", ev, fix)
		}
		return len(seen) < maxFieldFindings
	}
	ScanFields(r.url.RawQuery, func(name, value string) bool { return report("query", name, value) })
	if len(seen) < maxFieldFindings {
		bodyFields(r.f.Request.Header, r.f.Request.Body, report)
	}

	if r.answered {
		for _, v := range r.f.Response.Header["Www-Authenticate"] {
			if scheme := basicOrDigest(v); scheme != "" {
				r.add(RuleAuthChallengeHTTP, flow.SeverityMedium,
					"asks the browser for "+scheme+" credentials over plain http", "WWW-Authenticate: "+scheme,
					"serve the login over https only (redirect http:// to https:// before the challenge)")
				break
			}
		}
	}
}

// knownAuthSchemes are HTTP authentication schemes (IANA registry and
// common extensions) that evidence may name.
var knownAuthSchemes = [...]string{"Basic", "Bearer", "Digest", "Negotiate", "NTLM", "HOBA", "Mutual",
	"SCRAM-SHA-1", "SCRAM-SHA-256", "vapid", "Token", "AWS4-HMAC-SHA256", "DPoP", "PrivateToken", "Concealed"}

// authorizationEvidence names the scheme of an Authorization header, and
// only a known one: a header holding a bare token must not put the token
// into the evidence.
func authorizationEvidence(scheme string) string {
	for _, known := range knownAuthSchemes {
		if equalFoldASCII(scheme, known) {
			return "Authorization: " + known
		}
	}
	return "Authorization"
}

// basicOrDigest finds a Basic or Digest challenge in a WWW-Authenticate
// value (RFC 9110 §11.6.1: challenges are comma-separated; a challenge
// starts with the scheme token, and its parameters contain '=').
func basicOrDigest(v string) string {
	for v != "" {
		var part string
		part, v, _ = cutByte(v, ',')
		token, _, _ := cutByte(trimWSP(part), ' ')
		if strings.IndexByte(token, '=') >= 0 {
			continue
		}
		switch {
		case equalFoldASCII(token, "basic"):
			return "Basic"
		case equalFoldASCII(token, "digest"):
			return "Digest"
		}
	}
	return ""
}

// redirectRule is TX03: a plain-http 3xx whose first hop leaks or can be
// stripped. A redirect to https on the same host is fine unless cookies
// rode on the http request.
func (r *run) redirectRule() {
	if r.https || r.url == nil || !r.answered {
		return
	}
	status := r.f.Response.Status
	loc := headerValue(r.f.Response.Header, "Location")
	if status < 300 || status > 399 || loc == "" {
		return
	}
	target, err := r.url.Parse(loc)
	if err != nil {
		return
	}
	cookieSent := len(r.sent) > 0
	targetHost := strings.ToLower(target.Hostname())
	var msg, fix string
	switch {
	case isSecureScheme(target.Scheme) && targetHost == r.host:
		if !cookieSent {
			return
		}
		msg = "redirects to https, but the http:// request already carried cookies"
		fix = "mark the cookies Secure and send Strict-Transport-Security: max-age=31536000; includeSubDomains so browsers skip the http hop"
	case isSecureScheme(target.Scheme):
		msg = "redirects from http to https on another host: an attacker can rewrite the first hop"
		fix = "redirect to https://" + r.host + " first, and send Strict-Transport-Security from there"
	case target.Scheme == "http" || target.Scheme == "ws":
		msg = "redirects to another http:// URL: the next hop is in clear too"
		fix = "redirect to https://" + r.host + " instead"
	default:
		return
	}
	sev := flow.SeverityLow
	if cookieSent {
		sev = flow.SeverityMedium
	}
	r.add(RuleInsecureRedirect, sev, msg, "Location: "+target.Scheme+"://"+target.Host, fix)
}

const hstsFix = "send Strict-Transport-Security: max-age=31536000; includeSubDomains"

// hstsRules are TX04 (no HSTS on an https response) and TX05 (HSTS that
// does not protect as intended).
func (r *run) hstsRules() {
	if r.url == nil || !r.answered {
		return
	}
	sts := r.f.Response.Header["Strict-Transport-Security"]
	if !r.https {
		if len(sts) > 0 {
			r.add(RuleWeakHSTS, flow.SeverityLow,
				"Strict-Transport-Security on an http:// response: browsers ignore it (RFC 6797 §8.1)",
				"Strict-Transport-Security", "send it from https:// responses, and redirect http:// to https://")
		}
		return
	}
	if len(sts) == 0 {
		if isIPHost(r.host) || r.redirectsToSameHostHTTPS() {
			return
		}
		r.add(RuleNoHSTS, flow.SeverityLow,
			"no Strict-Transport-Security: a first http:// visit can be SSL-stripped",
			"Strict-Transport-Security (missing)", hstsFix)
		return
	}
	if len(sts) > 1 {
		r.add(RuleWeakHSTS, flow.SeverityLow,
			"several Strict-Transport-Security headers: browsers use only the first (RFC 6797 §8.1)",
			"Strict-Transport-Security", "send one header: max-age=31536000; includeSubDomains")
	}
	maxAge, ok := parseHSTSMaxAge(sts[0])
	switch {
	case !ok:
		r.add(RuleWeakHSTS, flow.SeverityLow,
			"Strict-Transport-Security has no valid max-age (or repeats a directive): browsers ignore it",
			"Strict-Transport-Security", hstsFix)
	case maxAge == 0:
		r.add(RuleWeakHSTS, flow.SeverityLow,
			"Strict-Transport-Security max-age=0 removes HSTS for this host",
			"Strict-Transport-Security", hstsFix)
	case maxAge < hstsMinMaxAge:
		r.add(RuleWeakHSTS, flow.SeverityInfo,
			"Strict-Transport-Security max-age below 180 days",
			"Strict-Transport-Security", hstsFix)
	}
}

// redirectsToSameHostHTTPS: a 3xx to https on the same host (RULES.md
// exempts it from TX04: the page it leads to is the one to carry HSTS).
func (r *run) redirectsToSameHostHTTPS() bool {
	st := r.f.Response.Status
	loc := headerValue(r.f.Response.Header, "Location")
	if st < 300 || st > 399 || loc == "" {
		return false
	}
	t, err := r.url.Parse(loc)
	return err == nil && isSecureScheme(t.Scheme) && strings.EqualFold(t.Hostname(), r.host)
}

// parseHSTSMaxAge reads the max-age directive of one STS header value per
// RFC 6797 §6.1: directives split by ';', names case-insensitive, values a
// token or a quoted string; a repeated directive makes the header invalid.
func parseHSTSMaxAge(v string) (int64, bool) {
	var (
		maxAge                   int64
		hasMaxAge, hasSubdomains bool
		hasPreload               bool
	)
	for v != "" {
		var d string
		d, v, _ = cutByte(v, ';')
		name, value, _ := cutByte(trimWSP(d), '=')
		name, value = trimWSP(name), trimWSP(value)
		switch {
		case name == "":
			continue
		case equalFoldASCII(name, "max-age"):
			if hasMaxAge {
				return 0, false
			}
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			n, ok := parseMaxAge(value)
			if !ok || n < 0 {
				return 0, false
			}
			maxAge, hasMaxAge = n, true
		case equalFoldASCII(name, "includesubdomains"):
			if hasSubdomains {
				return 0, false
			}
			hasSubdomains = true
		case equalFoldASCII(name, "preload"):
			if hasPreload {
				return 0, false
			}
			hasPreload = true
		}
	}
	return maxAge, hasMaxAge
}

// upstreamTLSRules are TX08 (old upstream TLS) and TX09 (an unverified
// upstream certificate that onpath went ahead with, --insecure).
func (r *run) upstreamTLSRules() {
	t := r.f.Server.TLS
	if t == nil {
		return
	}
	if t.Version != 0 && t.Version < tls.VersionTLS12 {
		r.add(RuleOldTLS, flow.SeverityMedium,
			"the server negotiated "+t.VersionName()+": TLS 1.0 and 1.1 are deprecated (RFC 8996)",
			"upstream TLS: "+t.VersionName(),
			"enable TLS 1.2 and 1.3 on the server and disable TLS 1.0 and 1.1")
	}
	if t.VerifyError != "" && r.f.Response != nil && r.answered {
		r.add(RuleUnverifiedUpstream, flow.SeverityHigh,
			"the upstream certificate failed verification and the request was sent anyway",
			"upstream certificate: "+t.VerifyError,
			"fix the server certificate, or trust its CA with --upstream-ca FILE instead of --insecure")
	}
}

// refHost is "scheme://host" of a URL, for evidence without path or query.
func refHost(u *url.URL) string { return u.Scheme + "://" + u.Host }
