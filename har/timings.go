package har

import (
	"math"
	"time"

	"onpath/flow"
)

// toTimings turns the recorded instants into HAR's phase durations in
// milliseconds: -1 for an optional phase that did not happen (blocked,
// dns, connect, ssl), 0 for a required one (send, wait, receive). ssl is
// also counted in connect, as HAR 1.2 asks.
func toTimings(t flow.Timings) timings {
	connectEnd := latest(t.ConnectDone, t.TLSDone)
	out := timings{
		Blocked: optional(between(t.Start, earliest(t.DNSStart, t.ConnectStart, t.TLSStart))),
		DNS:     optional(between(t.DNSStart, t.DNSDone)),
		Connect: optional(between(t.ConnectStart, connectEnd)),
		SSL:     optional(between(t.TLSStart, t.TLSDone)),
		Send:    max(between(latest(t.Start, t.DNSDone, connectEnd), t.RequestSent), 0),
		Wait:    max(between(t.RequestSent, t.FirstByte), 0),
		Receive: max(between(t.FirstByte, t.End), 0),
	}
	return out
}

// between is b-a in milliseconds, -1 when either is missing or b is before a.
func between(a, b time.Time) float64 {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return -1
	}
	return millis(b.Sub(a))
}

func optional(ms float64) *float64 { return &ms }

func earliest(ts ...time.Time) time.Time {
	var e time.Time
	for _, t := range ts {
		if !t.IsZero() && (e.IsZero() || t.Before(e)) {
			e = t
		}
	}
	return e
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if !t.IsZero() && t.After(l) {
			l = t
		}
	}
	return l
}

// fromTimings rebuilds instants from a HAR start and phase durations, as
// if the phases followed each other without gaps. A phase of -1 (or
// absent) did not happen and stays zero.
func fromTimings(start time.Time, total float64, t timings) flow.Timings {
	out := flow.Timings{Start: start}
	if start.IsZero() {
		return out
	}
	at := start
	step := func(ms float64) time.Time { return at.Add(duration(ms)) }
	if v, ok := phase(t.Blocked); ok {
		at = step(v)
	}
	if v, ok := phase(t.DNS); ok {
		out.DNSStart, out.DNSDone = at, step(v)
		at = out.DNSDone
	}
	if v, ok := phase(t.Connect); ok {
		out.ConnectStart = at
		end := step(v)
		if ssl, ok := phase(t.SSL); ok && ssl <= v {
			out.TLSStart, out.TLSDone = end.Add(-duration(ssl)), end
			out.ConnectDone = out.TLSStart
		} else {
			out.ConnectDone = end
		}
		at = end
	}
	at = step(max(t.Send, 0))
	out.RequestSent = at
	at = step(max(t.Wait, 0))
	out.FirstByte = at
	out.End = step(max(t.Receive, 0))
	// time is the whole exchange; trust it when the phases add up to less.
	if whole := start.Add(duration(total)); total > 0 && whole.After(out.End) {
		out.End = whole
	}
	return out
}

func phase(v *float64) (float64, bool) {
	if v == nil || *v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return 0, false
	}
	return *v, true
}

// duration converts HAR milliseconds, saturating absurd values at a day
// so arithmetic on a hostile file cannot overflow.
func duration(ms float64) time.Duration {
	if math.IsNaN(ms) || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, 24*3600*1000) * float64(time.Millisecond))
}
