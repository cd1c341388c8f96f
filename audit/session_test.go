package audit

import "testing"

func TestClassifySession(t *testing.T) {
	tests := []struct {
		name, value string
		want        Confidence
	}{
		{"JSESSIONID", "1", ConfidenceHigh},
		{"phpsessid", "1", ConfidenceHigh},
		{"ASP.NET_SessionId", "1", ConfidenceHigh},
		{"ASPSESSIONIDQASDCTST", "1", ConfidenceHigh},
		{"connect.sid", "s%3Aabc", ConfidenceHigh},
		{"__Host-sid", "1", ConfidenceHigh},
		{"__secure-SessionToken", "1", ConfidenceHigh},
		{"CFTOKEN", "1", ConfidenceHigh},
		{"remember_user_token", "1", ConfidenceHigh},
		{"usersid", "1", ConfidenceHigh},
		{"sidebar", "open", ConfidenceNone}, // sid only as a suffix
		{"auth", "", ConfidenceHigh},
		{"x_login", "1", ConfidenceHigh},
		{"theme", "dark", ConfidenceNone},
		{"_ga", "GA1.2.1234567890.1234567890", ConfidenceNone},
		{"_ga_ABC123", "GS1.1.1700000000.1.1.1700000000.0.0.0", ConfidenceNone},
		{"_gid", "GA1.2.999", ConfidenceNone},
		{"_fbp", "fb.1.1700000000000.1234567890", ConfidenceNone},
		{"__utma", "1.2.3", ConfidenceNone},
		{"__utmz_session", "x", ConfidenceNone}, // analytics wins over the name match
		{"x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", ConfidenceMedium},
		{"x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", ConfidenceNone}, // two segments: not a JWT
		{"x", "0123456789abcdef", ConfidenceMedium},                   // 16 hex chars = 64 bits
		{"x", "0123456789abcde", ConfidenceNone},                      // 15 chars: too short
		{"x", "1234567890123456789", ConfidenceNone},                  // 19 digits = 63 bits
		{"x", "12345678901234567890", ConfidenceMedium},               // 20 digits = 66 bits
		{"x", "Zm9vYmFyYmF6cXV4Cg==", ConfidenceMedium},
		{"x", "Mon, 27 Nov 2026 13:28", ConfidenceNone}, // text, not a token
		{"x", "%7B%22a%22%3A1%7D%7B", ConfidenceNone},
		{"x", "1.2.3.4.5.6.7.8.9.10", ConfidenceNone},
	}
	for _, tc := range tests {
		if got := ClassifySession(tc.name, tc.value); got != tc.want {
			t.Errorf("ClassifySession(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}
