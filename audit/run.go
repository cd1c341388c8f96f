package audit

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"

	"onpath/flow"
)

// Rule ids, as in RULES.md.
const (
	RuleSecureOverHTTP        = "CK01"
	RuleSessionOverHTTP       = "CK02"
	RuleNotSecure             = "CK03"
	RuleNotHttpOnly           = "CK04"
	RuleNoSameSite            = "CK05"
	RuleBadSameSite           = "CK06"
	RuleSameSiteNone          = "CK07"
	RulePrefixViolation       = "CK08"
	RuleDomainSet             = "CK09"
	RulePartitionedNoSecure   = "CK10"
	RuleCookieSize            = "CK11"
	RuleCookieHeaderOverHTTP  = "CK12"
	RuleCredentialsOverHTTP   = "TX01"
	RuleAuthChallengeHTTP     = "TX02"
	RuleInsecureRedirect      = "TX03"
	RuleNoHSTS                = "TX04"
	RuleWeakHSTS              = "TX05"
	RuleMixedContent          = "TX06"
	RuleInsecureForm          = "TX07"
	RuleOldTLS                = "TX08"
	RuleUnverifiedUpstream    = "TX09"
	RuleSecretInURL           = "LK01"
	RuleSecretInReferer       = "LK02"
	RuleCookieLeakedCrossFlow = "XF01"
)

// isNetworkRule: rules about what crosses the network, capped at info for
// localhost traffic (RULES.md predicate L).
func isNetworkRule(rule string) bool {
	switch rule {
	case RuleSessionOverHTTP, RuleNotSecure, RuleCookieHeaderOverHTTP, RuleCookieLeakedCrossFlow:
		return true
	}
	return strings.HasPrefix(rule, "TX")
}

// run holds one flow being audited and what was derived from it once.
type run struct {
	f   *flow.Flow
	now time.Time
	url *url.URL // nil when the request URL does not parse
	// host is the lowercase request host without port.
	host     string
	https    bool // H
	local    bool // L
	answered bool // the response came from the upstream, not from onpath

	set         []SetCookie // the response's Set-Cookie lines (void ones included)
	setEvidence []string    // "Set-Cookie: NAME" per set cookie, built on first use
	sent        []RequestCookie

	out []flow.Finding
}

func newRun(f *flow.Flow, now time.Time) *run {
	r := &run{f: f, now: now}
	if u, err := url.Parse(f.Request.URL); err == nil {
		r.url = u
		r.host = strings.ToLower(u.Hostname())
		r.https = isSecureScheme(u.Scheme)
		r.local = isLocalHost(r.host)
	}
	r.answered = f.Response != nil && answeredByUpstream(f.Error)
	if r.answered {
		if lines := f.Response.Header["Set-Cookie"]; len(lines) > 0 {
			total := 0
			for _, line := range lines {
				total += strings.Count(line, ";") + 1
			}
			attrBuf := make([]Attr, 0, total)
			maxAges := make([]int64, len(lines))
			r.set = make([]SetCookie, len(lines))
			r.setEvidence = make([]string, len(lines))
			origin := originOf(r.url)
			for i, line := range lines {
				r.set[i], _ = parseSetCookie(line, origin, now, attrBuf, &maxAges[i]) // void lines keep Ignored
				attrBuf = attrBuf[:len(attrBuf)+len(r.set[i].Attrs)]
			}
		}
	}
	if values := f.Request.Header["Cookie"]; len(values) == 1 {
		r.sent = ParseCookieHeader(values[0])
	} else {
		for _, v := range values { // HTTP/2 may split cookies over several fields
			r.sent = append(r.sent, ParseCookieHeader(v)...)
		}
	}
	return r
}

// answeredByUpstream: with these error phases any response on the flow
// is onpath's own error page, so response rules do not apply.
func answeredByUpstream(e *flow.Error) bool {
	if e == nil {
		return true
	}
	switch e.Phase {
	case flow.PhaseResponse, flow.PhaseClientAbort:
		return true
	}
	return false
}

// cookieEvidence is "Set-Cookie: NAME" for r.set[i], built once and only
// for cookies that get a finding.
func (r *run) cookieEvidence(i int) string {
	if r.setEvidence[i] == "" {
		r.setEvidence[i] = setCookieEvidence(r.set[i].Name)
	}
	return r.setEvidence[i]
}

func setCookieEvidence(name string) string {
	if name == "" {
		return "Set-Cookie: (no name)"
	}
	return "Set-Cookie: " + name
}

// add records a finding, capping network rules at info for localhost.
func (r *run) add(rule string, sev flow.Severity, message, evidence, fix string) {
	if r.local && sev > flow.SeverityInfo && isNetworkRule(rule) {
		sev = flow.SeverityInfo
		message += " (localhost: this traffic stays on the machine)"
	}
	if r.out == nil {
		r.out = make([]flow.Finding, 0, 16)
	}
	r.out = append(r.out, flow.Finding{Rule: rule, Severity: sev, Message: message, Evidence: evidence, Fix: fix})
}

// singleFlowRules runs every rule that needs only this flow.
func (r *run) singleFlowRules() {
	if r.f.Kind == flow.KindTunnel {
		return
	}
	r.setCookieRules()
	r.cookieHeaderRule()
	r.credentialRules()
	r.redirectRule()
	r.hstsRules()
	r.htmlRules()
	r.upstreamTLSRules()
	r.urlLeakRules()
}

// sortFindings orders by severity (worst first), then rule, then evidence.
func sortFindings(fs []flow.Finding) {
	slices.SortStableFunc(fs, func(a, b flow.Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Evidence, b.Evidence)
	})
}

// Findings runs the single-flow rules on f (everything except XF01; TX04
// is reported on every flow it applies to) and returns the findings in
// order: severity descending, then rule, then evidence.
func Findings(f *flow.Flow, now time.Time) []flow.Finding {
	r := newRun(f, now)
	r.singleFlowRules()
	sortFindings(r.out)
	return r.out
}
