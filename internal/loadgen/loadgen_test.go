package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClosedLoopStopsAtMaxRequestsAndCountsFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	c := Client("", nil, true, 4)
	res := ClosedLoop(context.Background(), 4, time.Minute, 40, func(worker int) error {
		u := srv.URL
		if worker == 0 {
			u += "?fail=1"
		}
		return Fetch(c, u, 5)
	})
	if got := res.Answered() + res.Errors; got != 40 {
		t.Errorf("answered %d + failed %d = %d requests, want exactly 40", res.Answered(), res.Errors, got)
	}
	if res.Errors == 0 || len(res.Samples) != 1 || !strings.Contains(res.Samples[0], "418") {
		t.Errorf("errors %d, samples %q: want worker 0's failures, one distinct message naming 418", res.Errors, res.Samples)
	}
	if res.Percentile(0.5) > res.Percentile(0.99) || res.Percentile(0.99) <= 0 || res.RPS() <= 0 {
		t.Errorf("p50 %v, p99 %v, %f req/s: want 0 < p50 <= p99 and a rate", res.Percentile(0.5), res.Percentile(0.99), res.RPS())
	}
	if err := Fetch(c, srv.URL, 6); err == nil || !strings.Contains(err.Error(), "5 bytes, want 6") {
		t.Errorf("Fetch of a short body: %v, want the length named", err)
	}
}

func TestCollectorKeepsFiveDistinctSamples(t *testing.T) {
	var c Collector
	for i := range 10 {
		c.Add([]time.Duration{time.Duration(10-i) * time.Millisecond}, []error{errors.New(fmt.Sprint("e", i%7)), errors.New("e0")})
	}
	res := c.Done(time.Now())
	if res.Errors != 20 || len(res.Samples) != 5 || res.Latencies[0] != time.Millisecond {
		t.Errorf("errors %d, samples %q, first latency %v: want 20, five distinct, sorted from 1ms", res.Errors, res.Samples, res.Latencies[0])
	}
}
