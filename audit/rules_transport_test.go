package audit

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"strings"
	"testing"

	"onpath/flow"
)

func TestRuleTX01CredentialsOverHTTP(t *testing.T) {
	runRuleTable(t, RuleCredentialsOverHTTP, []ruleCase{
		{name: "Basic Authorization", flow: newFlow("http://example.com/basic-auth/u/p", reqHeader("Authorization", "Basic dTpw")), want: sev(high), evidence: "Authorization: Basic"},
		{name: "Bearer Authorization", flow: newFlow("http://example.com/api", reqHeader("Authorization", "Bearer abc.def")), want: sev(high), evidence: "Authorization: Bearer"},
		{name: "bare token: evidence does not show it", flow: newFlow("http://example.com/api", reqHeader("Authorization", "s3cr3t-t0ken")), want: sev(high), evidence: "Authorization"},
		{name: "password form field", flow: newFlow("http://example.com/login", requestBody("POST", "application/x-www-form-urlencoded", "user=bob&password=hunter2")), want: sev(high), evidence: "form: password"},
		{name: "escaped field name", flow: newFlow("http://example.com/login", requestBody("POST", "application/x-www-form-urlencoded", "user=bob&pass%77ord=x")), want: sev(high), evidence: "form: password"},
		{name: "JSON token field", flow: newFlow("http://example.com/api", requestBody("POST", "application/json", `{"user":{"name":"bob","api_key":"k1"},"n":1}`)), want: sev(high), evidence: "json: api_key"},
		{name: "multipart password field", flow: newFlow("http://example.com/login", requestBody("POST", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nbob\r\n--XX\r\nContent-Disposition: form-data; name=\"pwd\"\r\n\r\nsecret\r\n--XX--\r\n")), want: sev(high), evidence: "multipart: pwd"},
		{name: "query secret", flow: newFlow("http://example.com/cb?ticket=ST-1"), want: sev(high), evidence: "query: ticket"},
		{name: "field with an empty value", flow: newFlow("http://example.com/login", requestBody("POST", "application/x-www-form-urlencoded", "user=bob&password=")), want: nil},
		{name: "harmless fields", flow: newFlow("http://example.com/search?q=go&page=2"), want: nil},
		{name: "over https", flow: newFlow("https://example.com/login", reqHeader("Authorization", "Basic dTpw"), requestBody("POST", "application/x-www-form-urlencoded", "password=x")), want: nil},
		{name: "localhost drops to info", flow: newFlow("http://localhost/", reqHeader("Authorization", "Basic dTpw")), want: sev(info)},
	})
}

func TestRuleTX02AuthChallengeOverHTTP(t *testing.T) {
	runRuleTable(t, RuleAuthChallengeHTTP, []ruleCase{
		{name: "Basic challenge", flow: newFlow("http://example.com/basic-auth/u/p", status(401), respHeader("WWW-Authenticate", `Basic realm="Fake Realm"`)), want: sev(medium), evidence: "WWW-Authenticate: Basic"},
		{name: "Digest among several challenges", flow: newFlow("http://example.com/", status(401), respHeader("WWW-Authenticate", `Bearer realm="a", Digest realm="b", qop="auth"`)), want: sev(medium), evidence: "Digest"},
		{name: "Bearer only", flow: newFlow("http://example.com/", status(401), respHeader("WWW-Authenticate", `Bearer realm="basic"`)), want: nil},
		{name: "over https", flow: newFlow("https://example.com/", status(401), respHeader("WWW-Authenticate", `Basic realm="x"`)), want: nil},
		{name: "onpath's own error page", flow: func() *flow.Flow {
			f := newFlow("http://example.com/", status(502), respHeader("WWW-Authenticate", "Basic"))
			f.Error = &flow.Error{Phase: flow.PhaseConnect, Message: "refused"}
			return f
		}(), want: nil},
	})
}

func TestRuleTX03InsecureRedirect(t *testing.T) {
	runRuleTable(t, RuleInsecureRedirect, []ruleCase{
		{name: "https same host, no cookie", flow: newFlow("http://example.com/", redirect(301, "https://example.com/")), want: nil},
		{name: "https same host, host in other case", flow: newFlow("http://example.com/a", redirect(302, "https://EXAMPLE.com/a")), want: nil},
		{name: "https same host with a cookie on the first hop", flow: newFlow("http://example.com/", reqHeader("Cookie", "sid=1"), redirect(301, "https://example.com/")), want: sev(medium), evidence: "Location: https://example.com"},
		{name: "https other host", flow: newFlow("http://example.com/", redirect(302, "https://login.example.net/")), want: sev(low), evidence: "https://login.example.net"},
		{name: "to http", flow: newFlow("http://example.com/", redirect(302, "/next")), want: sev(low), evidence: "Location: http://example.com"},
		{name: "to http with cookies", flow: newFlow("http://example.com/", reqHeader("Cookie", "a=1"), redirect(302, "http://other.example/")), want: sev(medium)},
		{name: "not a redirect", flow: newFlow("http://example.com/", respHeader("Location", "http://x/")), want: nil},
		{name: "https request", flow: newFlow("https://example.com/", redirect(302, "http://example.com/")), want: nil},
		{name: "localhost drops to info", flow: newFlow("http://localhost/", redirect(302, "http://localhost/x")), want: sev(info)},
	})
}

func TestRuleTX04NoHSTS(t *testing.T) {
	runRuleTable(t, RuleNoHSTS, []ruleCase{
		{name: "https without HSTS", flow: newFlow("https://example.com/", noHSTS), want: sev(low), evidence: "Strict-Transport-Security"},
		{name: "https with HSTS", flow: newFlow("https://example.com/"), want: nil},
		{name: "https redirect to the same host", flow: newFlow("https://example.com/", noHSTS, redirect(302, "/login")), want: nil},
		{name: "https redirect to another host", flow: newFlow("https://example.com/", noHSTS, redirect(302, "https://example.org/")), want: sev(low)},
		{name: "IP host", flow: newFlow("https://203.0.113.5/", noHSTS), want: nil},
		{name: "http", flow: newFlow("http://example.com/"), want: nil},
		{name: "localhost drops to info", flow: newFlow("https://localhost:8443/", noHSTS), want: sev(info)},
		{name: "no response", flow: func() *flow.Flow {
			f := newFlow("https://example.com/", noHSTS)
			f.Response = nil
			return f
		}(), want: nil},
	})
}

func TestRuleTX05WeakHSTS(t *testing.T) {
	withSTS := func(values ...string) flowOption {
		return func(f *flow.Flow) { f.Response.Header["Strict-Transport-Security"] = values }
	}
	runRuleTable(t, RuleWeakHSTS, []ruleCase{
		{name: "good", flow: newFlow("https://example.com/", withSTS("max-age=31536000; includeSubDomains; preload")), want: nil},
		{name: "quoted max-age", flow: newFlow("https://example.com/", withSTS(`max-age="31536000"`)), want: nil},
		{name: "short max-age", flow: newFlow("https://example.com/", withSTS("max-age=86400")), want: sev(info)},
		{name: "max-age=0", flow: newFlow("https://example.com/", withSTS("max-age=0")), want: sev(low)},
		{name: "no max-age", flow: newFlow("https://example.com/", withSTS("includeSubDomains")), want: sev(low)},
		{name: "non-numeric max-age", flow: newFlow("https://example.com/", withSTS("max-age=1y")), want: sev(low)},
		{name: "repeated directive", flow: newFlow("https://example.com/", withSTS("max-age=31536000; max-age=31536000")), want: sev(low)},
		{name: "several headers", flow: newFlow("https://example.com/", withSTS("max-age=31536000", "max-age=0")), want: sev(low)},
		{name: "several headers, first one short", flow: newFlow("https://example.com/", withSTS("max-age=60", "max-age=31536000")), want: sev(low, info)},
		{name: "on an http response", flow: newFlow("http://example.com/", withSTS("max-age=31536000")), want: sev(low)},
		{name: "localhost drops to info", flow: newFlow("https://localhost/", withSTS("max-age=0")), want: sev(info)},
	})
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRuleTX06MixedContent(t *testing.T) {
	page := func(body string) flowOption { return responseBody("text/html; charset=utf-8", body) }
	gz := func(f *flow.Flow) {
		f.Response.Header.Set("Content-Encoding", "gzip")
		f.Response.Body.Data = gzipped(t, string(f.Response.Body.Data))
	}
	runRuleTable(t, RuleMixedContent, []ruleCase{
		{name: "http script", flow: newFlow("https://example.com/", page(`<html><script src="http://cdn.example/app.js"></script>`)), want: sev(medium), evidence: `<script src="http://cdn.example/app.js">`},
		{name: "http stylesheet, unquoted, upper case", flow: newFlow("https://example.com/", page(`<LINK REL=stylesheet HREF=HTTP://cdn.example/a.css>`)), want: sev(medium)},
		{name: "http iframe and image", flow: newFlow("https://example.com/", page(`<iframe src='http://a.example/'></iframe><img alt=x src="http://img.example/x.png">`)), want: sev(medium, low)},
		{name: "object data", flow: newFlow("https://example.com/", page(`<object data="http://a.example/x.swf"></object>`)), want: sev(medium)},
		{name: "gzip-encoded page", flow: newFlow("https://example.com/", page(`<script src="http://cdn.example/app.js"></script>`), gz), want: sev(medium)},
		{name: "https and relative resources", flow: newFlow("https://example.com/", page(`<script src="https://cdn.example/a.js"></script><img src="/x.png"><script src="//cdn.example/b.js"></script>`)), want: nil},
		{name: "links are navigation", flow: newFlow("https://example.com/", page(`<a href="http://example.org/">x</a><link rel=canonical href="http://example.com/">`)), want: nil},
		{name: "inside a comment or script text", flow: newFlow("https://example.com/", page(`<!-- <script src="http://x/"></script> --><script>document.write('<img src="http://x/">')</script>`)), want: nil},
		{name: "not HTML", flow: newFlow("https://example.com/", responseBody("application/json", `{"u":"<script src=\"http://x/\">"}`)), want: nil},
		{name: "plain-http page", flow: newFlow("http://example.com/", page(`<script src="http://cdn.example/app.js"></script>`)), want: nil},
		{name: "forms are TX07", flow: newFlow("https://example.com/", page(`<form action="http://example.com/login"></form>`)), want: nil},
		{name: "localhost drops to info", flow: newFlow("https://localhost/", page(`<script src="http://cdn.example/app.js"></script>`)), want: sev(info)},
	})
}

func TestRuleTX07InsecureForm(t *testing.T) {
	page := func(body string) flowOption { return responseBody("text/html", body) }
	runRuleTable(t, RuleInsecureForm, []ruleCase{
		{name: "https page posting to http", flow: newFlow("https://example.com/", page(`<form method=post action="http://example.com/login"><input name=u></form>`)), want: sev(medium), evidence: `<form action="http://example.com/login">`},
		{name: "formaction to http", flow: newFlow("https://example.com/", page(`<form><button formaction="http://example.com/x">go</button></form>`)), want: sev(medium)},
		{name: "https page posting to https", flow: newFlow("https://example.com/", page(`<form action="https://example.com/login"><input type="password" name="pw"></form>`)), want: nil},
		{name: "http page with a password input", flow: newFlow("http://example.com/login", page(`<form action="/login"><input type="PASSWORD" name="pw"><input type=password name=pw2></form>`)), want: sev(medium), evidence: `name="pw"`},
		{name: "http page without a password input", flow: newFlow("http://example.com/", page(`<form action="/search"><input type="text" name="q"></form>`)), want: nil},
		{name: "localhost drops to info", flow: newFlow("http://localhost/login", page(`<input type=password>`)), want: sev(info)},
	})
}

func TestRuleTX08OldTLS(t *testing.T) {
	runRuleTable(t, RuleOldTLS, []ruleCase{
		{name: "TLS 1.0", flow: newFlow("https://example.com/", upstreamTLS(func(t *flow.TLSInfo) { t.Version = tls.VersionTLS10 })), want: sev(medium), evidence: "TLS 1.0"},
		{name: "TLS 1.1", flow: newFlow("https://example.com/", upstreamTLS(func(t *flow.TLSInfo) { t.Version = tls.VersionTLS11 })), want: sev(medium)},
		{name: "TLS 1.2", flow: newFlow("https://example.com/", upstreamTLS(func(t *flow.TLSInfo) { t.Version = tls.VersionTLS12 })), want: nil},
		{name: "TLS 1.3", flow: newFlow("https://example.com/"), want: nil},
		{name: "localhost drops to info", flow: newFlow("https://localhost/", upstreamTLS(func(t *flow.TLSInfo) { t.Version = tls.VersionTLS10 })), want: sev(info)},
	})
}

func TestRuleTX09UnverifiedUpstream(t *testing.T) {
	unverified := upstreamTLS(func(t *flow.TLSInfo) {
		t.Verified = false
		t.VerifyError = "x509: certificate signed by unknown authority"
	})
	runRuleTable(t, RuleUnverifiedUpstream, []ruleCase{
		{name: "insecure mode went ahead", flow: newFlow("https://example.com/", unverified), want: sev(high), evidence: "unknown authority"},
		{name: "verified", flow: newFlow("https://example.com/"), want: nil},
		{name: "refused (no response)", flow: func() *flow.Flow {
			f := newFlow("https://example.com/", unverified)
			f.Response = nil
			f.Error = &flow.Error{Phase: flow.PhaseUpstreamCert, Message: "unknown authority"}
			return f
		}(), want: nil},
		{name: "refused with onpath's 502", flow: func() *flow.Flow {
			f := newFlow("https://example.com/", unverified, status(502))
			f.Error = &flow.Error{Phase: flow.PhaseUpstreamCert, Message: "unknown authority"}
			return f
		}(), want: nil},
		{name: "localhost drops to info", flow: newFlow("https://127.0.0.1:8443/", unverified), want: sev(info)},
	})
}

func TestHTMLScanIsBounded(t *testing.T) {
	// A script past MaxScanBytes is not reported; one before it is.
	pad := strings.Repeat("<p>filler</p>", MaxScanBytes/13+1)
	f := newFlow("https://example.com/", responseBody("text/html", pad+`<script src="http://late.example/x.js"></script>`))
	if got := ruleFindings(Findings(f, testNow), RuleMixedContent); len(got) != 0 {
		t.Errorf("content past MaxScanBytes reported: %+v", got)
	}
	f = newFlow("https://example.com/", responseBody("text/html", `<script src="http://early.example/x.js"></script>`+pad))
	if got := ruleFindings(Findings(f, testNow), RuleMixedContent); len(got) != 1 {
		t.Errorf("early script: got %d TX06 findings, want 1", len(got))
	}
}

func TestHTMLFindingsAreCapped(t *testing.T) {
	f := newFlow("https://example.com/", responseBody("text/html", strings.Repeat(`<img src="http://x.example/a.png">`, 500)))
	if got := len(ruleFindings(Findings(f, testNow), RuleMixedContent)); got != maxHTMLFindings {
		t.Errorf("TX06 findings = %d, want the cap %d", got, maxHTMLFindings)
	}
}

func TestEvidenceNeverCarriesSecrets(t *testing.T) {
	const secret = "s3cr3tVALUE0123456789"
	f := newFlow("http://example.com/login?token="+secret+"&email=bob%40example.com",
		reqHeader("Authorization", secret), reqHeader("Cookie", "sid="+secret),
		reqHeader("Referer", "http://other.example/?api_key="+secret),
		requestBody("POST", "application/x-www-form-urlencoded", "password="+secret),
		setCookies("sid="+secret+"; Path=/"))
	fs := Findings(f, testNow)
	if len(fs) < 6 {
		t.Fatalf("want many findings, got %+v", fs)
	}
	for _, fd := range fs {
		if strings.Contains(fd.Evidence+fd.Message+fd.Fix, secret) || strings.Contains(fd.Evidence, "bob") {
			t.Errorf("finding leaks a value: %+v", fd)
		}
	}
}
