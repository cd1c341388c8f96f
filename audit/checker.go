package audit

import (
	"strings"
	"sync"
	"time"

	"onpath/flow"
)

// maxTrackedEntries bounds each piece of cross-flow state; past it the
// oldest entries are forgotten first, so memory stays flat on long runs.
const maxTrackedEntries = 1 << 16

// Checker runs every rule, including the cross-flow ones: XF01 (a cookie
// first set by an https response, later sent by the same client over
// http) and TX04 (reported once per host). Call Check once per flow in
// capture order. A Checker is safe for concurrent use.
type Checker struct {
	now func() time.Time

	mu sync.Mutex
	// hstsReported holds the hosts TX04 was reported for.
	hstsReported fifoMap[string, struct{}]
	// cookies remembers, per client and cookie, whether the cookie was
	// first set by an https response.
	cookies fifoMap[cookieKey, cookieOrigin]
}

// cookieKey names a cookie as one client's browser stores it.
type cookieKey struct {
	client string // client IP, "" for imported flows
	name   string
	domain string // the Domain attribute, or the host for a host-only cookie
}

type cookieOrigin struct {
	hostOnly bool
	viaHTTPS bool
}

// NewChecker returns a Checker reading the time from now (time.Now if nil).
func NewChecker(now func() time.Time) *Checker {
	if now == nil {
		now = time.Now
	}
	return &Checker{
		now:          now,
		hstsReported: newFIFOMap[string, struct{}](maxTrackedEntries),
		cookies:      newFIFOMap[cookieKey, cookieOrigin](maxTrackedEntries),
	}
}

// Check returns all findings for f, ordered as Findings orders them, and
// updates the cross-flow state with f.
func (c *Checker) Check(f *flow.Flow) []flow.Finding {
	r := newRun(f, c.now())
	r.singleFlowRules()
	if f.Kind != flow.KindTunnel && r.url != nil {
		c.mu.Lock()
		c.oncePerHost(r)
		c.crossFlowCookies(r)
		c.mu.Unlock()
	}
	sortFindings(r.out)
	return r.out
}

// oncePerHost drops TX04 for a host it was already reported for.
func (c *Checker) oncePerHost(r *run) {
	kept := r.out[:0]
	for _, fd := range r.out {
		if fd.Rule == RuleNoHSTS {
			if _, seen := c.hstsReported.get(r.host); seen {
				continue
			}
			c.hstsReported.put(strings.Clone(r.host), struct{}{})
		}
		kept = append(kept, fd)
	}
	r.out = kept
}

// crossFlowCookies is XF01, then remembers the cookies this flow set.
func (c *Checker) crossFlowCookies(r *run) {
	client := addrHost(r.f.Client.Addr)
	if !r.https {
		for i, sent := range r.sent {
			if r.firstSetOverHTTPS(c, client, sent.Name) && !sentBefore(r.sent[:i], sent.Name) {
				r.add(RuleCookieLeakedCrossFlow, flow.SeverityHigh,
					"cookie first set by an https response was sent over plain http: the missing Secure flag was exploited",
					"Cookie: "+sent.Name,
					`add "; Secure" where the cookie is set, and send Strict-Transport-Security`)
			}
		}
	}
	for i := range r.set {
		sc := &r.set[i]
		if sc.void() || (sc.Ignored != "" && !sc.Deletion) {
			continue
		}
		key := cookieKey{client: client, name: sc.Name, domain: sc.Domain}
		if sc.HostOnly {
			key.domain = r.host
		}
		if sc.Deletion {
			c.cookies.remove(key)
			continue
		}
		if _, known := c.cookies.get(key); known {
			continue // keep where it was first set
		}
		key = cookieKey{strings.Clone(key.client), strings.Clone(key.name), strings.Clone(key.domain)}
		c.cookies.put(key, cookieOrigin{hostOnly: sc.HostOnly, viaHTTPS: r.https})
	}
}

func sentBefore(sent []RequestCookie, name string) bool {
	for _, s := range sent {
		if s.Name == name {
			return true
		}
	}
	return false
}

// firstSetOverHTTPS looks the sent cookie up for this host and each parent
// domain (a Domain cookie of a parent is sent to subdomains too).
func (r *run) firstSetOverHTTPS(c *Checker, client, name string) bool {
	for d := r.host; d != ""; {
		if o, ok := c.cookies.get(cookieKey{client: client, name: name, domain: d}); ok &&
			(d == r.host || !o.hostOnly) {
			return o.viaHTTPS
		}
		if isIPHost(d) {
			break
		}
		_, parent, found := cutByte(d, '.')
		if !found {
			break
		}
		d = parent
	}
	return false
}

// fifoMap is a map bounded in size that forgets its oldest insertions
// first. A key removed and inserted again takes a second slot in the ring,
// so it may be forgotten slightly early; that only shortens memory.
type fifoMap[K comparable, V any] struct {
	m     map[K]V
	ring  []K
	next  int
	limit int
}

func newFIFOMap[K comparable, V any](limit int) fifoMap[K, V] {
	return fifoMap[K, V]{m: make(map[K]V), limit: limit}
}

func (f *fifoMap[K, V]) get(k K) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

func (f *fifoMap[K, V]) put(k K, v V) {
	if _, ok := f.m[k]; ok {
		f.m[k] = v
		return
	}
	if len(f.ring) < f.limit {
		f.ring = append(f.ring, k)
	} else {
		delete(f.m, f.ring[f.next])
		f.ring[f.next] = k
		f.next = (f.next + 1) % f.limit
	}
	f.m[k] = v
}

func (f *fifoMap[K, V]) remove(k K) { delete(f.m, k) }

func (f *fifoMap[K, V]) len() int { return len(f.m) }
