package audit

import "testing"

func TestHostPredicates(t *testing.T) {
	tests := []struct {
		host        string
		local, isIP bool
	}{
		{"localhost", true, false},
		{"LOCALHOST.", true, false},
		{"app.localhost", true, false},
		{"127.0.0.1", true, true},
		{"127.255.0.9", true, true},
		{"::1", true, true},
		{"::ffff:127.0.0.1", true, true},
		{"10.0.0.1", false, true},
		{"2001:db8::1", false, true},
		{"example.com", false, false},
		{"1password.com", false, false},
		{"localhost.example", false, false},
		{"", false, false},
	}
	for _, tc := range tests {
		if got := isLocalHost(tc.host); got != tc.local {
			t.Errorf("isLocalHost(%q) = %v, want %v", tc.host, got, tc.local)
		}
		if got := isIPHost(tc.host); got != tc.isIP {
			t.Errorf("isIPHost(%q) = %v, want %v", tc.host, got, tc.isIP)
		}
	}
}

func TestDomainMatch(t *testing.T) {
	tests := []struct {
		host, domain string
		want         bool
	}{
		{"example.com", "example.com", true},
		{"www.example.com", "example.com", true},
		{"wwwexample.com", "example.com", false},
		{"example.com", "www.example.com", false},
		{"10.0.0.1", "0.0.1", false},
	}
	for _, tc := range tests {
		if got := domainMatch(tc.host, tc.domain); got != tc.want {
			t.Errorf("domainMatch(%q, %q) = %v, want %v", tc.host, tc.domain, got, tc.want)
		}
	}
}
