package audit

import "testing"

func TestRuleLK01SecretInURL(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	runRuleTable(t, RuleSecretInURL, []ruleCase{
		{name: "long token over https", flow: newFlow("https://example.com/cb?access_token=abcdef123456"), want: sev(medium), evidence: "query: access_token"},
		{name: "short token value", flow: newFlow("https://example.com/cb?token=12345678"), want: nil},
		{name: "JWT under any name", flow: newFlow("https://example.com/cb?state=" + jwt), want: sev(medium), evidence: "query: state"},
		{name: "jsessionid in the path", flow: newFlow("http://example.com/app;jsessionid=0123ABCD?x=1"), want: sev(medium), evidence: "path: ;jsessionid="},
		{name: "email address", flow: newFlow("https://example.com/unsubscribe?to=bob%40example.com"), want: sev(low), evidence: "query: to"},
		{name: "card number", flow: newFlow("https://example.com/pay?n=4111-1111-1111-1111"), want: sev(low), evidence: "query: n"},
		{name: "number failing Luhn", flow: newFlow("https://example.com/pay?n=4111111111111112"), want: nil},
		{name: "repeated digit", flow: newFlow("https://example.com/pay?n=0000000000000000"), want: nil},
		{name: "harmless query", flow: newFlow("https://example.com/search?q=golang&page=2&session=1"), want: nil},
		{name: "localhost keeps its severity (not a network rule)", flow: newFlow("http://localhost/cb?api_key=0123456789abcdef"), want: sev(medium)},
	})
}

func TestRuleLK02SecretInReferer(t *testing.T) {
	runRuleTable(t, RuleSecretInReferer, []ruleCase{
		{name: "cross-host referer with a token", flow: newFlow("https://cdn.example.net/lib.js", reqHeader("Referer", "https://app.example.com/home?session_token=abcdefghijk")), want: sev(medium), evidence: "Referer: https://app.example.com query: session_token"},
		{name: "same-host referer", flow: newFlow("https://app.example.com/lib.js", reqHeader("Referer", "https://app.example.com/home?session_token=abcdefghijk")), want: nil},
		{name: "cross-host referer without secrets", flow: newFlow("https://cdn.example.net/lib.js", reqHeader("Referer", "https://app.example.com/home?tab=2")), want: nil},
		{name: "origin-only referer", flow: newFlow("https://cdn.example.net/lib.js", reqHeader("Referer", "https://app.example.com/")), want: nil},
	})
}
