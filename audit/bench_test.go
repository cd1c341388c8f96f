package audit

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// typicalFlow is the benchmark's flow: https, 20 request and response
// headers in all, 5 Set-Cookie lines of the usual mix, a 10 KiB HTML page.
func typicalFlow() *flow.Flow {
	var page strings.Builder
	page.WriteString(`<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Shop</title><meta charset="utf-8">` +
		`<link rel="stylesheet" href="/static/app.css"><script src="https://cdn.example/app.js" defer></script></head><body>`)
	for i := 0; page.Len() < 10<<10-260; i++ {
		fmt.Fprintf(&page, `<div class="item"><a href="/p/%d"><img src="/img/%d.jpg" alt="product %d"></a><p>Item %d, in stock.</p></div>`+"\n", i, i, i, i)
	}
	// An http: link (navigation, not mixed content) keeps the scan from
	// taking its "no http: anywhere" shortcut.
	page.WriteString(`<footer><a href="http://partner.example/">Partner</a></footer>`)
	page.WriteString(`<form action="/search" method="get"><input name="q"></form></body></html>`)
	body := page.String()
	f := newFlow("https://shop.example/products?page=2&sort=price",
		reqHeader("Accept", "text/html,application/xhtml+xml"),
		reqHeader("Accept-Language", "en-GB,en;q=0.9"),
		reqHeader("Accept-Encoding", "gzip, deflate, br"),
		reqHeader("Cookie", "__Host-sid=Zm9vYmFyYmF6cXV4Zm9vYmFy; theme=dark; _ga=GA1.2.1234567890.1234567890"),
		reqHeader("Referer", "https://shop.example/"),
		reqHeader("Sec-Fetch-Mode", "navigate"),
		reqHeader("Sec-Fetch-Site", "same-origin"),
		reqHeader("Upgrade-Insecure-Requests", "1"),
		reqHeader("Priority", "u=0, i"),
		respHeader("Cache-Control", "private, max-age=0"),
		respHeader("Date", "Fri, 27 Nov 2026 12:00:00 GMT"),
		respHeader("Server", "nginx"),
		respHeader("Vary", "Accept-Encoding"),
		respHeader("X-Content-Type-Options", "nosniff"),
		respHeader("Content-Security-Policy", "default-src 'self'"),
		setCookies(
			"__Host-sid=Zm9vYmFyYmF6cXV4Zm9vYmFy; Path=/; Secure; HttpOnly; SameSite=Lax",
			"csrftoken=4f2b8c9d0e1a2b3c4d5e6f708192a3b4; Path=/; Secure; SameSite=Strict; Max-Age=31449600",
			"theme=dark; Path=/; Max-Age=31536000",
			"_ga=GA1.2.1234567890.1234567890; Domain=.shop.example; Path=/; Expires=Sun, 27 Nov 2027 12:00:00 GMT",
			"lang=en; Path=/; Secure; SameSite=Lax",
		),
		responseBody("text/html; charset=utf-8", body),
	)
	f.Response.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return f
}

func BenchmarkCheckTypicalFlow(b *testing.B) {
	f := typicalFlow()
	if n := len(f.Request.Header) + len(f.Response.Header); n < 20 {
		b.Fatalf("typical flow has %d header fields, want 20", n)
	}
	c := NewChecker(func() time.Time { return testNow })
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Response.Body.Data)))
	var findings int
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpuStart, cpuOK := threadCPUTime()
	for b.Loop() {
		findings = len(c.Check(f))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/flow")
	if cpuEnd, ok := threadCPUTime(); ok && cpuOK {
		// CPU time of the benchmark's thread per flow (GC assists
		// included): steadier than wall time when the machine is shared.
		b.ReportMetric(float64((cpuEnd-cpuStart).Nanoseconds())/float64(b.N)/1000, "thread-cpu-µs/flow")
	}
	b.ReportMetric(float64(findings), "findings/flow")
}

func BenchmarkFindingsTypicalFlow(b *testing.B) {
	f := typicalFlow()
	b.ReportAllocs()
	for b.Loop() {
		Findings(f, testNow)
	}
}

func BenchmarkParseSetCookie(b *testing.B) {
	u, _ := http.NewRequest("GET", "https://shop.example/a/b", nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ParseSetCookie("__Host-sid=Zm9vYmFyYmF6cXV4Zm9vYmFy; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600", u.URL, testNow)
	}
}

func BenchmarkExposure(b *testing.B) {
	f := typicalFlow()
	b.ReportAllocs()
	for b.Loop() {
		Exposure(f)
	}
}

// BenchmarkCheckMixedContentPage is the slow path: the typical flow whose
// page does load an http: image, so the full tag scan runs.
func BenchmarkCheckMixedContentPage(b *testing.B) {
	f := typicalFlow()
	f.Response.Body.Data = append([]byte(`<img src="http://tracker.example/p.gif">`), f.Response.Body.Data...)
	c := NewChecker(func() time.Time { return testNow })
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Response.Body.Data)))
	for b.Loop() {
		c.Check(f)
	}
}
