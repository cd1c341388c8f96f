package ui

import (
	"strings"
	"testing"
)

func TestWrapRunes(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"IP and TCP headers are never encrypted", 20, []string{"IP and TCP headers", "are never encrypted"}},
		{"averyveryverylongword", 8, []string{"averyver", "yverylon", "gword"}},
		{"", 5, []string{""}},
	}
	for _, tc := range tests {
		if got := wrapRunes(tc.in, tc.width); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapRunes(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestWireLinesHighlightSecrets(t *testing.T) {
	lines := wireLines(loginFlow())
	secrets := map[string]bool{}
	for _, l := range lines {
		for _, sp := range l {
			if sp.Role == RoleSecret {
				secrets[sp.Text] = true
			}
		}
	}
	for _, want := range []string{"s3cr3tt0k3nvalue", "hunter2", "PHPSESSID=0123456789abcdef0123", "PHPSESSID=fedcba9876543210fedc; path=/"} {
		if !secrets[want] {
			t.Errorf("%q is not highlighted; highlighted: %v", want, secrets)
		}
	}
	for _, notSecret := range []string{"ada", "/home"} {
		if secrets[notSecret] {
			t.Errorf("%q highlighted but not a secret", notSecret)
		}
	}
	if got := lines[0].String(); got != "POST /login?next=/home&token=s3cr3tt0k3nvalue HTTP/1.1" {
		t.Errorf("request line = %q", got)
	}
}

func TestExposureLinesColumns(t *testing.T) {
	e := exposure{
		Legs: []exposureLeg{
			{Name: "client ↔ onpath", Encrypted: true, TLSVersion: "TLS 1.3",
				Visible: []exposureItem{{Label: "SNI", Value: "a.example"}},
				Hidden:  []exposureItem{{Label: "Cookie", Value: "sid=1", Sensitive: true, Why: "cookies"}}},
			{Name: "onpath ↔ server", Visible: []exposureItem{{Label: "Request", Value: "GET /"}}},
		},
		Active: []string{"strip TLS"},
	}
	lines := exposureLines(e, nil, 60)
	var all []string
	for _, l := range lines {
		all = append(all, l.String())
	}
	want := []string{
		"client ↔ onpath  encrypted, TLS 1.3",
		"VISIBLE TO A PASSIVE ATTACK… │ HIDDEN BY TLS               ",
		"  SNI: a.example             │ ! Cookie: sid=1             ",
		"                             │     cookies                 ",
		"",
		"onpath ↔ server  plain text",
		"VISIBLE TO A PASSIVE ATTACKER  (no TLS: nothing is hidden)",
		"  Request: GET /",
		"",
		"An active attacker on the path could:",
		"  • strip TLS",
		"",
	}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("exposure lines\n got %q\nwant %q", all, want)
	}
}
