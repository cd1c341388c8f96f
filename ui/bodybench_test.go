package ui

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/store/query"
)

// oneFlowSource serves a single flow; it stands in for the store when a
// benchmark needs a body larger than the store's capture cap.
type oneFlowSource struct{ f *flow.Flow }

func (s oneFlowSource) Len() (int, error) { return 1, nil }
func (s oneFlowSource) Summaries(ctx context.Context, after flow.ID, fn func(flow.Summary) bool) error {
	if after < s.f.ID {
		fn(s.f.Summarize())
	}
	return nil
}
func (s oneFlowSource) LastSummaries(n int) ([]flow.Summary, error) {
	return []flow.Summary{s.f.Summarize()}, nil
}
func (s oneFlowSource) Get(id flow.ID) (*flow.Flow, error) { return s.f, nil }
func (s oneFlowSource) Delete(ids ...flow.ID) error        { return nil }
func (s oneFlowSource) Query(ctx context.Context, q *query.Query, progress func(done, total int), fn func(flow.Summary) bool) error {
	return nil
}

// BenchmarkBodyScroll: opening the Response tab of a body of megabytes and
// paging through it (budget: 16 ms a key).
func BenchmarkBodyScroll(b *testing.B) {
	var text bytes.Buffer
	for i := 0; text.Len() < 16<<20; i++ {
		fmt.Fprintf(&text, "%08d the quick brown fox jumps over the lazy dog, line of a large log file\n", i)
	}
	var js bytes.Buffer
	js.WriteString(`{"items":[`)
	for i := 0; js.Len() < 8<<20; i++ {
		if i > 0 {
			js.WriteByte(',')
		}
		fmt.Fprintf(&js, `{"id":%d,"name":"item %d","tags":["a","b"],"price":%d.99}`, i, i, i%1000)
	}
	js.WriteString(`]}`)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
	}{{"text-16MB", "text/plain", text.Bytes()}, {"json-8MB", "application/json", js.Bytes()}} {
		b.Run(tc.name, func(b *testing.B) {
			f := &flow.Flow{ID: 1, Kind: flow.KindHTTP, Request: flow.Request{Method: "GET", URL: "https://big.example/"},
				Response: &flow.Response{Status: 200, Header: http.Header{"Content-Type": {tc.ctype}}, Body: flow.Body{Size: int64(len(tc.body)), Data: tc.body}},
				Timings:  flow.Timings{Start: testNow, End: testNow.Add(time.Second)}}
			v, u, _ := benchUI(b, oneFlowSource{f}, 160, 45)
			if err := u.openList(); err != nil {
				b.Fatal(err)
			}
			began := time.Now()
			u.key(tcell.NewEventKey(tcell.KeyEnter, 0, tcell.ModNone))
			u.key(tcell.NewEventKey(tcell.KeyRune, '2', tcell.ModNone))
			u.draw()
			open := time.Since(began)
			keys := []*tcell.EventKey{
				tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone),
				tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone),
				tcell.NewEventKey(tcell.KeyPgUp, 0, tcell.ModNone),
				tcell.NewEventKey(tcell.KeyRune, 'G', tcell.ModNone),
				tcell.NewEventKey(tcell.KeyRune, 'g', tcell.ModNone),
			}
			var times []time.Duration
			i := 0
			for b.Loop() {
				t0 := time.Now()
				u.key(keys[i%len(keys)])
				u.draw()
				times = append(times, time.Since(t0))
				i++
			}
			slices.Sort(times)
			b.ReportMetric(float64(open.Microseconds())/1000, "ms/open-tab")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/key-p50")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "ms/key-p99")
			_ = v
		})
	}
}
