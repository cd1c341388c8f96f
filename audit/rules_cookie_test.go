package audit

import (
	"strings"
	"testing"
)

func TestRuleCK01SecureOverHTTP(t *testing.T) {
	runRuleTable(t, RuleSecureOverHTTP, []ruleCase{
		{name: "Secure set over http", flow: newFlow("http://example.com/", setCookies("theme=dark; Secure")), want: sev(low), evidence: "Set-Cookie: theme"},
		{name: "Secure deletion over http is rejected too", flow: newFlow("http://example.com/", setCookies("theme=; Secure; Max-Age=0")), want: sev(low)},
		{name: "Secure over https", flow: newFlow("https://example.com/", setCookies("theme=dark; Secure")), want: nil},
		{name: "not Secure over http", flow: newFlow("http://example.com/", setCookies("theme=dark")), want: nil},
		{name: "localhost counts as a secure origin", flow: newFlow("http://localhost:8080/", setCookies("theme=dark; Secure")), want: nil},
		{name: "127.0.0.1 counts as a secure origin", flow: newFlow("http://127.0.0.1:8080/", setCookies("theme=dark; Secure")), want: nil},
	})
}

func TestRuleCK02SessionOverHTTP(t *testing.T) {
	runRuleTable(t, RuleSessionOverHTTP, []ruleCase{
		{name: "session cookie over http", flow: newFlow("http://example.com/login", setCookies("sessionid=abc123")), want: sev(high), evidence: "Set-Cookie: sessionid"},
		{name: "random value over http", flow: newFlow("http://example.com/", setCookies("x=3q2+7wAAAAAAAAAAAAAAAAAAAAA")), want: sev(high)},
		{name: "Secure session cookie over http still crossed in clear", flow: newFlow("http://example.com/", setCookies("sid=abc; Secure")), want: sev(high)},
		{name: "deletion", flow: newFlow("http://example.com/", setCookies("sid=; Max-Age=0")), want: nil},
		{name: "deletion by past Expires", flow: newFlow("http://example.com/", setCookies("sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT")), want: nil},
		{name: "not a session cookie", flow: newFlow("http://example.com/", setCookies("theme=dark")), want: nil},
		{name: "analytics cookie", flow: newFlow("http://example.com/", setCookies("_ga=GA1.2.1234567890.1234567890")), want: nil},
		{name: "over https", flow: newFlow("https://example.com/", setCookies("sid=abc; Secure; HttpOnly")), want: nil},
		{name: "localhost drops to info", flow: newFlow("http://localhost:3000/", setCookies("sid=abc")), want: sev(info)},
	})
}

func TestRuleCK03NotSecure(t *testing.T) {
	runRuleTable(t, RuleNotSecure, []ruleCase{
		{name: "session cookie without Secure", flow: newFlow("https://example.com/", setCookies("sid=abc; HttpOnly")), want: sev(medium), evidence: "Set-Cookie: sid"},
		{name: "plain cookie without Secure", flow: newFlow("https://example.com/", setCookies("theme=dark")), want: sev(low)},
		{name: "Secure cookie on https", flow: newFlow("https://example.com/", setCookies("sid=abc; Secure; HttpOnly")), want: nil},
		{name: "case-insensitive attribute", flow: newFlow("https://example.com/", setCookies("sid=abc; sEcUrE")), want: nil},
		{name: "deletion", flow: newFlow("https://example.com/", setCookies("sid=; Max-Age=0")), want: nil},
		{name: "not over https (CK02 territory)", flow: newFlow("http://example.com/", setCookies("sid=abc")), want: nil},
		{name: "rejected cookie still reported (its fix may leave it unsafe)", flow: newFlow("https://example.com/", setCookies("sid=abc; SameSite=None")), want: sev(medium)},
		{name: "localhost drops to info", flow: newFlow("https://localhost/", setCookies("sid=abc")), want: sev(info)},
	})
}

func TestRuleCK04NotHttpOnly(t *testing.T) {
	runRuleTable(t, RuleNotHttpOnly, []ruleCase{
		{name: "session cookie", flow: newFlow("https://example.com/", setCookies("PHPSESSID=abc; Secure")), want: sev(medium), evidence: "Set-Cookie: PHPSESSID"},
		{name: "plain cookie", flow: newFlow("https://example.com/", setCookies("theme=dark; Secure")), want: sev(info)},
		{name: "HttpOnly", flow: newFlow("https://example.com/", setCookies("sid=abc; Secure; httponly")), want: nil},
		{name: "deletion", flow: newFlow("https://example.com/", setCookies("sid=gone; Secure; Expires=Wed, 21 Oct 2015 07:28:00 GMT")), want: nil},
		{name: "not network: localhost keeps its severity", flow: newFlow("http://localhost/", setCookies("sid=abc")), want: sev(medium)},
	})
}

func TestRuleCK05NoSameSite(t *testing.T) {
	runRuleTable(t, RuleNoSameSite, []ruleCase{
		{name: "session cookie", flow: newFlow("https://example.com/", setCookies("auth_token=x; Secure; HttpOnly")), want: sev(low), evidence: "Set-Cookie: auth_token"},
		{name: "plain cookie", flow: newFlow("https://example.com/", setCookies("theme=dark; Secure")), want: sev(info)},
		{name: "SameSite=Lax", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=Lax")), want: nil},
		{name: "invalid SameSite is CK06, not CK05", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=Lox")), want: nil},
		{name: "empty SameSite is CK06, not CK05", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=")), want: nil},
		{name: "deletion", flow: newFlow("https://example.com/", setCookies("sid=; Secure; Max-Age=-1")), want: nil},
	})
}

func TestRuleCK06BadSameSite(t *testing.T) {
	runRuleTable(t, RuleBadSameSite, []ruleCase{
		{name: "unknown value", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=Lox")), want: sev(low), evidence: "Set-Cookie: sid"},
		{name: "last value invalid wins", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=Strict; SameSite=bogus")), want: sev(low)},
		{name: "last value valid wins", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=bogus; SameSite=strict")), want: nil},
		{name: "None without Secure", flow: newFlow("https://example.com/", setCookies("theme=x; SameSite=None")), want: sev(low)},
		{name: "None without Secure on a deletion (rejected deletion)", flow: newFlow("https://example.com/", setCookies("theme=; SameSite=None; Max-Age=0")), want: sev(low)},
		{name: "None with Secure", flow: newFlow("https://example.com/", setCookies("theme=x; SameSite=None; Secure")), want: nil},
		{name: "case-insensitive value", flow: newFlow("https://example.com/", setCookies("theme=x; Secure; samesite=LAX")), want: nil},
		{name: "invalid value on a deletion", flow: newFlow("https://example.com/", setCookies("sid=; Secure; SameSite=Lox; Max-Age=0")), want: nil},
	})
}

func TestRuleCK07SameSiteNone(t *testing.T) {
	runRuleTable(t, RuleSameSiteNone, []ruleCase{
		{name: "session cookie with None", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; HttpOnly; SameSite=None")), want: sev(low), evidence: "Set-Cookie: sid"},
		{name: "plain cookie with None", flow: newFlow("https://example.com/", setCookies("embed=1; Secure; SameSite=None")), want: nil},
		{name: "session cookie with Lax", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; SameSite=Lax")), want: nil},
		{name: "None without Secure (CK06 too)", flow: newFlow("https://example.com/", setCookies("sid=x; SameSite=None")), want: sev(low)},
		{name: "deletion", flow: newFlow("https://example.com/", setCookies("sid=; Secure; SameSite=None; Max-Age=0")), want: nil},
	})
}

func TestRuleCK08Prefixes(t *testing.T) {
	runRuleTable(t, RulePrefixViolation, []ruleCase{
		{name: "__Host- done right", flow: newFlow("https://example.com/a/b", setCookies("__Host-sid=x; Secure; Path=/; HttpOnly")), want: nil},
		{name: "__Host- with empty Domain is host-only", flow: newFlow("https://example.com/", setCookies("__Host-sid=x; Secure; Path=/; Domain=")), want: nil},
		{name: "__Host- without Secure", flow: newFlow("https://example.com/", setCookies("__Host-sid=x; Path=/")), want: sev(low), evidence: "Set-Cookie: __Host-sid"},
		{name: "__Host- with Domain", flow: newFlow("https://example.com/", setCookies("__Host-sid=x; Secure; Path=/; Domain=example.com")), want: sev(low)},
		{name: "__Host- without Path", flow: newFlow("https://example.com/", setCookies("__Host-sid=x; Secure")), want: sev(low)},
		{name: "__Host- with Path=/app", flow: newFlow("https://example.com/", setCookies("__Host-sid=x; Secure; Path=/app")), want: sev(low)},
		{name: "__Host- over http", flow: newFlow("http://example.com/", setCookies("__Host-sid=x; Secure; Path=/")), want: sev(low)},
		{name: "__host- matched case-insensitively", flow: newFlow("https://example.com/", setCookies("__host-sid=x; Path=/")), want: sev(low)},
		{name: "__Secure- done right", flow: newFlow("https://example.com/", setCookies("__Secure-sid=x; Secure; Domain=example.com")), want: nil},
		{name: "__Secure- without Secure", flow: newFlow("https://example.com/", setCookies("__Secure-sid=x")), want: sev(low)},
		{name: "__Secure- over http", flow: newFlow("http://example.com/", setCookies("__Secure-sid=x; Secure")), want: sev(low)},
		{name: "__Secure- over http on localhost is fine", flow: newFlow("http://localhost:8080/", setCookies("__Secure-sid=x; Secure")), want: nil},
		{name: "nameless cookie with a prefixed value", flow: newFlow("https://example.com/", setCookies("__Host-sid; Secure; Path=/")), want: sev(low)},
		{name: "no prefix", flow: newFlow("https://example.com/", setCookies("sid=x; Path=/app")), want: nil},
	})
}

func TestRuleCK09Domain(t *testing.T) {
	runRuleTable(t, RuleDomainSet, []ruleCase{
		{name: "session cookie for the parent domain", flow: newFlow("https://app.example.com/", setCookies("sid=x; Secure; Domain=.example.com")), want: sev(low), evidence: "Set-Cookie: sid"},
		{name: "session cookie for its own host", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; Domain=Example.COM")), want: sev(info)},
		{name: "plain cookie for the parent domain", flow: newFlow("https://app.example.com/", setCookies("theme=x; Secure; Domain=example.com")), want: sev(info)},
		{name: "host-only", flow: newFlow("https://example.com/", setCookies("sid=x; Secure")), want: nil},
		{name: "empty last Domain is host-only", flow: newFlow("https://app.example.com/", setCookies("sid=x; Secure; Domain=example.com; Domain=")), want: nil},
		{name: "top-level Domain is rejected", flow: newFlow("https://shop.example/", setCookies("sid=x; Secure; Domain=example")), want: sev(info), evidence: "Set-Cookie: sid"},
		{name: "Domain not covering the host is rejected", flow: newFlow("https://example.com/", setCookies("sid=x; Secure; Domain=other.org")), want: sev(info), evidence: "Set-Cookie: sid"},
		{name: "deletion", flow: newFlow("https://app.example.com/", setCookies("sid=; Domain=example.com; Max-Age=0")), want: nil},
	})
}

func TestRuleCK10Partitioned(t *testing.T) {
	runRuleTable(t, RulePartitionedNoSecure, []ruleCase{
		{name: "Partitioned without Secure", flow: newFlow("https://example.com/", setCookies("embed=1; Partitioned; SameSite=Lax")), want: sev(low), evidence: "Set-Cookie: embed"},
		{name: "Partitioned with Secure", flow: newFlow("https://example.com/", setCookies("embed=1; Partitioned; Secure; SameSite=None")), want: nil},
		{name: "not Partitioned", flow: newFlow("https://example.com/", setCookies("embed=1")), want: nil},
	})
}

func TestRuleCK11SizeAndRepeats(t *testing.T) {
	big := strings.Repeat("v", 4096)
	runRuleTable(t, RuleCookieSize, []ruleCase{
		{name: "name and value over 4096", flow: newFlow("https://example.com/", setCookies("big="+big+"; Secure")), want: sev(low), evidence: "Set-Cookie: big"},
		{name: "exactly 4096 is fine", flow: newFlow("https://example.com/", setCookies("big="+big[:4093]+"; Secure")), want: nil},
		{name: "attribute over 1024", flow: newFlow("https://example.com/", setCookies("p=1; Secure; Path=/"+strings.Repeat("a", 1024))), want: sev(info)},
		{name: "repeated attribute", flow: newFlow("https://example.com/", setCookies("p=1; Secure; Max-Age=10; max-age=20")), want: sev(info)},
		{name: "same cookie twice in one response", flow: newFlow("https://example.com/", setCookies("p=1; Secure; Path=/", "p=2; Secure; Path=/")), want: sev(info)},
		{name: "same name, other path: two cookies", flow: newFlow("https://example.com/", setCookies("p=1; Secure; Path=/", "p=2; Secure; Path=/app")), want: nil},
		{name: "plain cookie", flow: newFlow("https://example.com/", setCookies("p=1; Secure; Path=/; HttpOnly")), want: nil},
	})
}

func TestRuleCK12CookieHeaderOverHTTP(t *testing.T) {
	runRuleTable(t, RuleCookieHeaderOverHTTP, []ruleCase{
		{name: "session cookie sent", flow: newFlow("http://example.com/", reqHeader("Cookie", "theme=dark; sid=abc")), want: sev(high), evidence: "Cookie: theme, sid"},
		{name: "other cookies sent", flow: newFlow("http://example.com/", reqHeader("Cookie", "theme=dark; lang=en")), want: sev(medium)},
		{name: "several Cookie fields (HTTP/2)", flow: newFlow("http://example.com/", reqHeader("Cookie", "theme=dark"), reqHeader("Cookie", "JSESSIONID=1")), want: sev(high)},
		{name: "over https", flow: newFlow("https://example.com/", reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "no cookies", flow: newFlow("http://example.com/"), want: nil},
		{name: "empty Cookie header", flow: newFlow("http://example.com/", reqHeader("Cookie", " ; ")), want: nil},
		{name: "localhost drops to info", flow: newFlow("http://[::1]:8080/", reqHeader("Cookie", "sid=abc")), want: sev(info)},
	})
}
