package audit

import (
	"crypto/tls"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// testNow is the injected clock for every test.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type flowOption func(*flow.Flow)

// newFlow builds a finished flow for rawURL answered 200 by the upstream.
// https flows get TLS 1.3 on both legs with a verified chain and, unless
// noHSTS is applied, a good Strict-Transport-Security header so that rule
// tables see only the rule they test.
func newFlow(rawURL string, opts ...flowOption) *flow.Flow {
	f := &flow.Flow{
		ID:     1,
		Kind:   flow.KindHTTP,
		Client: flow.Conn{Addr: "127.0.0.1:50000"},
		Server: flow.Conn{Addr: "203.0.113.10:80"},
		Request: flow.Request{
			Method: "GET", URL: rawURL, Proto: "HTTP/1.1",
			Header: http.Header{"User-Agent": {"test"}},
		},
		Response: &flow.Response{
			Proto: "HTTP/1.1", Status: 200,
			Header: http.Header{"Content-Type": {"text/plain"}},
		},
		Timings: flow.Timings{Start: testNow, End: testNow.Add(42 * time.Millisecond)},
	}
	if strings.HasPrefix(rawURL, "https://") || strings.HasPrefix(rawURL, "wss://") {
		host := f.Request.Host()
		f.Server.Addr = "203.0.113.10:443"
		f.Client.TLS = &flow.TLSInfo{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
			SNI: host, ALPN: "h2", OfferedALPN: []string{"h2", "http/1.1"}, Verified: true}
		f.Server.TLS = &flow.TLSInfo{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
			SNI: host, ALPN: "h2", OfferedALPN: []string{"h2", "http/1.1"}, Verified: true,
			Chain: []flow.Certificate{{Subject: "CN=" + host, Issuer: "CN=Test CA"}, {Subject: "CN=Test CA", Issuer: "CN=Test CA", IsCA: true}}}
		f.Response.Header.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

func setCookies(lines ...string) flowOption {
	return func(f *flow.Flow) {
		f.Response.Header["Set-Cookie"] = append(f.Response.Header["Set-Cookie"], lines...)
	}
}

func reqHeader(name, value string) flowOption {
	return func(f *flow.Flow) { f.Request.Header.Add(name, value) }
}

func respHeader(name, value string) flowOption {
	return func(f *flow.Flow) { f.Response.Header.Add(name, value) }
}

func noHSTS(f *flow.Flow) { f.Response.Header.Del("Strict-Transport-Security") }

func status(code int) flowOption { return func(f *flow.Flow) { f.Response.Status = code } }

func redirect(code int, location string) flowOption {
	return func(f *flow.Flow) {
		f.Response.Status = code
		f.Response.Header.Set("Location", location)
	}
}

func responseBody(contentType, body string) flowOption {
	return func(f *flow.Flow) {
		f.Response.Header.Set("Content-Type", contentType)
		f.Response.Body = flow.Body{Size: int64(len(body)), Data: []byte(body)}
	}
}

func requestBody(method, contentType, body string) flowOption {
	return func(f *flow.Flow) {
		f.Request.Method = method
		f.Request.Header.Set("Content-Type", contentType)
		f.Request.Body = flow.Body{Size: int64(len(body)), Data: []byte(body)}
	}
}

func clientAddr(addr string) flowOption { return func(f *flow.Flow) { f.Client.Addr = addr } }

func upstreamTLS(edit func(*flow.TLSInfo)) flowOption {
	return func(f *flow.Flow) { edit(f.Server.TLS) }
}

// ruleFindings keeps the findings of one rule.
func ruleFindings(fs []flow.Finding, rule string) []flow.Finding {
	var out []flow.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// ruleCase is one row of a per-rule table: the flow, and the severities
// the rule must report on it (none: the rule stays silent). evidence, when
// set, must appear in the first finding's evidence.
type ruleCase struct {
	name     string
	flow     *flow.Flow
	want     []flow.Severity
	evidence string
}

func runRuleTable(t *testing.T, rule string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := Findings(tc.flow, testNow)
			got := ruleFindings(all, rule)
			var gotSev []flow.Severity
			for _, f := range got {
				gotSev = append(gotSev, f.Severity)
			}
			if !slices.Equal(gotSev, tc.want) {
				t.Fatalf("%s severities = %v, want %v\nfindings: %+v", rule, gotSev, tc.want, all)
			}
			for _, f := range got {
				if f.Message == "" || f.Evidence == "" || f.Fix == "" {
					t.Errorf("%s finding has an empty field: %+v", rule, f)
				}
			}
			if tc.evidence != "" && (len(got) == 0 || !strings.Contains(got[0].Evidence, tc.evidence)) {
				t.Errorf("%s evidence = %+v, want it to contain %q", rule, got, tc.evidence)
			}
		})
	}
}

// sev is shorthand for severity lists in tables.
func sev(s ...flow.Severity) []flow.Severity { return s }

const (
	info   = flow.SeverityInfo
	low    = flow.SeverityLow
	medium = flow.SeverityMedium
	high   = flow.SeverityHigh
)
