package audit

import (
	"slices"
	"strings"

	"onpath/flow"
)

// setCookieRules runs CK01–CK11 on the response's Set-Cookie lines.
//
// Reading of "cookie-flag rules skip deletions": the rules about flags a
// stored cookie should carry (CK02–CK07, CK09) skip deletions. The rules
// saying the browser rejects the line (CK01, CK06's None-without-Secure,
// CK08, CK10, CK11) still fire on deletions, because a rejected deletion
// does not delete: the old cookie (a logged-in session, say) stays.
// A cookie the browser rejects still gets the flag rules, as the table
// reads literally: the fix for the rejection alone may leave it unsafe.
func (r *run) setCookieRules() {
	for i := range r.set {
		c := &r.set[i]
		if c.void() {
			continue // nothing a browser would look at
		}
		session := c.Session.IsSession()
		secureOrigin := r.https || r.local

		// Reading: CK01 says "¬H", but browsers treat localhost as a secure
		// origin and keep such a cookie, so it stays silent for L.
		if c.Secure && !secureOrigin {
			r.addCookie(i, RuleSecureOverHTTP, flow.SeverityLow,
				"browsers discard a Secure cookie set by an http:// response",
				"set it from an https:// response")
		}
		if c.SameSite == "None" && !c.Secure {
			r.addCookie(i, RuleBadSameSite, flow.SeverityLow,
				"SameSite=None without Secure: browsers reject the cookie",
				`add "; Secure"`)
		}
		r.prefixRule(i, c, secureOrigin)
		if c.Partitioned && !c.Secure {
			r.addCookie(i, RulePartitionedNoSecure, flow.SeverityLow,
				"Partitioned without Secure: browsers reject the cookie",
				`add "; Secure"`)
		}
		r.sizeRules(i, c)

		if c.Deletion {
			continue
		}
		// CK02 fires even when the browser then rejects the cookie: the
		// value crossed the network either way.
		if !r.https && session {
			r.addCookie(i, RuleSessionOverHTTP, flow.SeverityHigh,
				"session cookie set over plain http: its value crossed the network unencrypted",
				`serve the site over https only and add "; Secure"`)
		}
		if r.https && !c.Secure {
			sev := flow.SeverityLow
			if session {
				sev = flow.SeverityMedium
			}
			r.addCookie(i, RuleNotSecure, sev,
				"no Secure flag: any http:// request an attacker triggers carries it in clear",
				`add "; Secure"`)
		}
		if !c.HttpOnly {
			sev := flow.SeverityInfo
			if session {
				sev = flow.SeverityMedium
			}
			r.addCookie(i, RuleNotHttpOnly, sev, "no HttpOnly flag: script (XSS) can read it",
				`add "; HttpOnly" unless page script must read it`)
		}
		switch {
		case c.SameSiteRaw == "" && !hasAttr(c, "samesite"):
			sev := flow.SeverityInfo
			if session {
				sev = flow.SeverityLow
			}
			r.addCookie(i, RuleNoSameSite, sev,
				"no SameSite attribute: only Chromium defaults to Lax, Firefox and Safari send it cross-site",
				`add "; SameSite=Lax"`)
		case c.SameSite == "":
			r.addCookie(i, RuleBadSameSite, flow.SeverityLow,
				"SameSite value not Strict, Lax or None: treated as absent",
				`use "; SameSite=Lax"`)
		case c.SameSite == "None" && session:
			r.addCookie(i, RuleSameSiteNone, flow.SeverityLow,
				"session cookie with SameSite=None: sent on every cross-site request (CSRF)",
				`use "; SameSite=Lax" unless it must be sent cross-site (then add "; Partitioned")`)
		}
		switch {
		case !c.HostOnly && (c.Ignored == rejectDomain || c.Ignored == rejectPublicSuffix):
			r.addCookie(i, RuleDomainSet, flow.SeverityInfo,
				c.Ignored+": browsers reject the cookie",
				`drop "; Domain=`+c.Domain+`"`)
		case !c.HostOnly:
			sev := flow.SeverityInfo
			if session && c.Domain != r.host {
				sev = flow.SeverityLow
			}
			r.addCookie(i, RuleDomainSet, sev,
				"Domain attribute: every subdomain can read and overwrite it",
				`drop "; Domain=`+c.Domain+`" and name it `+PrefixHost+strippedName(c))
		}
	}
	r.repeatedCookieRule()
}

// Rejection reasons the rules recognise.
const (
	rejectDomain       = "Domain does not cover the request host"
	rejectPublicSuffix = "Domain is a top-level domain (a public suffix)"
)

func hasAttr(c *SetCookie, name string) bool {
	for _, a := range c.Attrs {
		if equalFoldASCII(a.Name, name) {
			return true
		}
	}
	return false
}

// strippedName is the cookie name without a __Secure-/__Host- prefix.
func strippedName(c *SetCookie) string {
	return c.Name[len(c.Prefix):]
}

// prefixRule is CK08: the prefix requirements of RFC 6265bis-22 §4.1.3,
// including a nameless cookie whose value looks prefixed (§5.7 step 22).
func (r *run) prefixRule(i int, c *SetCookie, secureOrigin bool) {
	switch {
	case c.Name == "" && (hasPrefixFold(c.Value, PrefixSecure) || hasPrefixFold(c.Value, PrefixHost)):
		r.addCookie(i, RulePrefixViolation, flow.SeverityLow,
			"nameless cookie whose value starts with a cookie prefix: browsers reject it",
			"give the cookie a name")
	case c.Prefix == PrefixSecure && (!c.Secure || !secureOrigin):
		r.addCookie(i, RulePrefixViolation, flow.SeverityLow,
			"__Secure- cookie without Secure or not set over https: browsers reject it",
			`set it from https:// with "; Secure"`)
	case c.Prefix == PrefixHost && (!c.Secure || !secureOrigin || !c.HostOnly || c.PathDefaulted || c.Path != "/"):
		r.addCookie(i, RulePrefixViolation, flow.SeverityLow,
			"__Host- cookie needs Secure, https, no Domain and Path=/: browsers reject it",
			`set it from https:// with "; Secure; Path=/" and no Domain`)
	}
}

// sizeRules is CK11 for one line: its size and repeated attributes.
func (r *run) sizeRules(i int, c *SetCookie) {
	if len(c.Name)+len(c.Value) > maxNameValueBytes {
		r.addCookie(i, RuleCookieSize, flow.SeverityLow,
			"name and value exceed 4096 bytes: browsers ignore the cookie",
			"keep the cookie under 4096 bytes (store the data server-side, keep an id)")
	}
	for j, a := range c.Attrs {
		if len(a.Value) > maxAttrValueBytes {
			r.addCookie(i, RuleCookieSize, flow.SeverityInfo,
				"attribute "+a.Name+" exceeds 1024 bytes: browsers ignore the attribute",
				"shorten the "+a.Name+" attribute to 1024 bytes or less")
		}
		for _, prev := range c.Attrs[:j] {
			if equalFoldASCII(prev.Name, a.Name) {
				r.addCookie(i, RuleCookieSize, flow.SeverityInfo,
					"attribute "+a.Name+" repeated: the last one wins",
					"send each attribute once")
				break
			}
		}
	}
}

// repeatedCookieRule is CK11's "cookie name repeated in one response".
// Reading: lines that differ in Domain or Path set different cookies
// (RFC 6265bis-22 §5.7 step 23 keys a cookie on name, domain and path), so
// only a repeat with the same domain and path is reported.
func (r *run) repeatedCookieRule() {
	for i := range r.set {
		c := &r.set[i]
		for j := range i {
			p := &r.set[j]
			if p.Name == c.Name && p.Domain == c.Domain && p.Path == c.Path && !p.void() && !c.void() {
				r.add(RuleCookieSize, flow.SeverityInfo,
					"cookie set twice in one response: the last line wins", r.cookieEvidence(i),
					"send one Set-Cookie line per cookie")
				break
			}
		}
	}
}

// cookieHeaderRule is CK12: the request carried cookies over plain http.
func (r *run) cookieHeaderRule() {
	if r.https || r.url == nil || len(r.sent) == 0 {
		return
	}
	sev := flow.SeverityMedium
	names := make([]string, 0, len(r.sent))
	for _, c := range r.sent {
		if c.Session.IsSession() {
			sev = flow.SeverityHigh
		}
		if !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	r.add(RuleCookieHeaderOverHTTP, sev,
		"cookies sent over plain http: readable by anyone on the path",
		"Cookie: "+strings.Join(names, ", "),
		"serve the site over https only (redirect http://, send Strict-Transport-Security) and mark the cookies Secure")
}

// addCookie records a finding about the Set-Cookie line r.set[i].
func (r *run) addCookie(i int, rule string, sev flow.Severity, message, fix string) {
	r.add(rule, sev, message, r.cookieEvidence(i), fix)
}
