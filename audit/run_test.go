package audit

import (
	"testing"

	"onpath/flow"
)

func TestIsNetworkRule(t *testing.T) {
	network := []string{"CK02", "CK03", "CK12", "TX01", "TX02", "TX03", "TX04", "TX05", "TX06", "TX07", "TX08", "TX09", "XF01"}
	local := []string{"CK01", "CK04", "CK05", "CK06", "CK07", "CK08", "CK09", "CK10", "CK11", "LK01", "LK02"}
	for _, r := range network {
		if !isNetworkRule(r) {
			t.Errorf("%s should be a network rule", r)
		}
	}
	for _, r := range local {
		if isNetworkRule(r) {
			t.Errorf("%s should not be a network rule", r)
		}
	}
}

func TestResponseRulesSkipOnpathErrorPages(t *testing.T) {
	for phase, answered := range map[flow.Phase]bool{
		flow.PhaseDNS: false, flow.PhaseConnect: false, flow.PhaseTLS: false, flow.PhaseUpstreamCert: false,
		flow.PhaseRequest: false, flow.PhaseProxy: false, flow.PhaseClientTLS: false,
		flow.PhaseResponse: true, flow.PhaseClientAbort: true,
	} {
		if got := answeredByUpstream(&flow.Error{Phase: phase}); got != answered {
			t.Errorf("answeredByUpstream(%s) = %v, want %v", phase, got, answered)
		}
	}
	// A 502 from onpath carrying a cookie-less page yields no response findings.
	f := newFlow("https://example.com/", noHSTS, status(502))
	f.Error = &flow.Error{Phase: flow.PhaseConnect, Message: "connection refused"}
	if got := Findings(f, testNow); len(got) != 0 {
		t.Errorf("findings on onpath's own error page: %+v", got)
	}
}
