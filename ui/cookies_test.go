package ui

import (
	"fmt"
	"testing"

	"onpath/flow"
)

func TestCookieBadgesFromFindings(t *testing.T) {
	finding := func(rule string, sev flow.Severity) flow.Finding {
		return flow.Finding{Rule: rule, Severity: sev, Message: rule}
	}
	tests := []struct {
		name string
		c    cookieEntry
		want []badge
	}{
		{"all right", cookieEntry{Secure: true, HttpOnly: true, SameSite: "Strict"},
			[]badge{{"Secure", RoleGood}, {"HttpOnly", RoleGood}, {"SameSite=Strict", RoleGood}}},
		{"missing flags with findings", cookieEntry{SameSite: "", Findings: []flow.Finding{finding("CK03", flow.SeverityMedium), finding("CK04", flow.SeverityInfo), finding("CK05", flow.SeverityLow)}},
			[]badge{{"!Secure", RoleBad}, {"!HttpOnly", RoleWarn}, {"!SameSite absent", RoleWarn}}},
		{"missing flags, harmless", cookieEntry{},
			[]badge{{"-Secure", RoleDim}, {"-HttpOnly", RoleDim}, {"-SameSite absent", RoleDim}}},
		{"unknown samesite", cookieEntry{Secure: true, HttpOnly: true, SameSiteRaw: "Lux", Findings: []flow.Finding{finding("CK06", flow.SeverityLow)}},
			[]badge{{"Secure", RoleGood}, {"HttpOnly", RoleGood}, {"!SameSite=Lux?", RoleWarn}}},
		{"secure over http", cookieEntry{Secure: true, HttpOnly: true, SameSite: "Lax", Findings: []flow.Finding{finding("CK01", flow.SeverityLow)}},
			[]badge{{"!Secure", RoleWarn}, {"HttpOnly", RoleGood}, {"SameSite=Lax", RoleGood}}},
		{"host prefix broken", cookieEntry{Secure: true, HttpOnly: true, SameSite: "Lax", Prefix: "__Host-", Findings: []flow.Finding{finding("CK08", flow.SeverityLow)}},
			[]badge{{"Secure", RoleGood}, {"HttpOnly", RoleGood}, {"SameSite=Lax", RoleGood}, {"!__Host-", RoleWarn}}},
		{"partitioned ok", cookieEntry{Secure: true, HttpOnly: true, SameSite: "None", Partitioned: true, Prefix: "__Secure-"},
			[]badge{{"Secure", RoleGood}, {"HttpOnly", RoleGood}, {"SameSite=None", RoleGood}, {"__Secure-", RoleGood}, {"Partitioned", RoleGood}}},
		{"session over http", cookieEntry{HttpOnly: true, SameSite: "Lax", Findings: []flow.Finding{finding("CK02", flow.SeverityHigh)}},
			[]badge{{"!Secure", RoleBad}, {"HttpOnly", RoleGood}, {"SameSite=Lax", RoleGood}}},
	}
	for _, tc := range tests {
		got := cookieBadges(&tc.c)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

func TestCookieLinesShowFindingText(t *testing.T) {
	c := cookieEntry{Name: "sid", Value: "0123456789abcdef0123456789abcdef", Path: "/", Lifetime: "session", Session: "high",
		Findings: []flow.Finding{{Rule: "CK04", Severity: flow.SeverityMedium, Message: "no HttpOnly flag", Fix: "add HttpOnly"}}}
	lines := cookieLines([]cookieEntry{c}, 120)
	var all []string
	for _, l := range lines {
		all = append(all, l.String())
	}
	want := []string{
		"     NAME               VALUE            DOMAIN             PATH       EXPIRES/MAX-AGE       ",
		"set  sid                01234…6789abcdef (host-only)        /          session               ",
		"    [-Secure] [!HttpOnly] [-SameSite absent] session cookie (high confidence)",
		"    MED  CK04 no HttpOnly flag",
		"              fix: add HttpOnly",
		"",
	}
	if fmt.Sprintf("%q", all) != fmt.Sprintf("%q", want) {
		t.Errorf("cookie lines\n got %q\nwant %q", all, want)
	}
}
