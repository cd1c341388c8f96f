package ui

import (
	"strings"
	"testing"

	"onpath/flow"
)

func TestCookiesOfBadCookieFlow(t *testing.T) {
	f := badCookieFlow()
	entries := cookiesOf(f, testNow)
	type row struct {
		sent     bool
		name     string
		lifetime string
		rules    string
	}
	var got []row
	for _, e := range entries {
		rules := ""
		for _, fd := range e.Findings {
			rules += fd.Rule + " "
		}
		got = append(got, row{e.Sent, e.Name, e.Lifetime, rules})
	}
	// The findings that name each cookie come with it (at least these).
	want := map[string]row{
		"tracking":    {false, "tracking", "session", "CK06"},
		"prefs":       {false, "prefs", "Max-Age=3600", ""},
		"__Host-csrf": {false, "__Host-csrf", "session", "CK08"},
	}
	for _, g := range got {
		w, ok := want[g.name]
		if !ok {
			continue
		}
		if g.sent != w.sent || g.lifetime != w.lifetime || !strings.Contains(g.rules, w.rules) || (w.rules == "" && g.rules != "") {
			t.Errorf("cookie %s = %+v, want %+v", g.name, g, w)
		}
	}
	if len(entries) != 6 {
		t.Errorf("got %d cookie rows, want 2 sent + 4 set", len(entries))
	}
	// Recorded findings are used as they are; without them audit computes.
	f.Findings = []flow.Finding{{Rule: "CK04", Severity: flow.SeverityHigh, Evidence: "Set-Cookie: prefs", Message: "recorded"}}
	for _, e := range cookiesOf(f, testNow) {
		if e.Name == "prefs" && (len(e.Findings) != 1 || e.Findings[0].Message != "recorded") {
			t.Errorf("recorded findings not used: %+v", e.Findings)
		}
	}
}

func TestExposureOfCopiesLegs(t *testing.T) {
	e := exposureOf(loginFlow(), testNow)
	if len(e.Legs) != 2 || e.Legs[0].Encrypted || e.Legs[1].Encrypted {
		t.Fatalf("legs = %+v", e.Legs)
	}
	sensitive := 0
	for _, it := range e.Legs[1].Visible {
		if it.Sensitive {
			sensitive++
		}
	}
	if sensitive == 0 {
		t.Errorf("no sensitive item on the plain-HTTP server leg: %+v", e.Legs[1].Visible)
	}
	if len(e.Active) == 0 {
		t.Errorf("no active-attacker notes for plain HTTP")
	}
	rules := map[string]bool{}
	for _, fd := range e.Findings {
		rules[fd.Rule] = true
	}
	if !rules["TX01"] || rules["CK02"] {
		t.Errorf("findings on the path = %v, want TX01 (credentials in clear) and no cookie rules", rules)
	}
}
