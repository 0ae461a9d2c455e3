package api

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Denials of callers that did not authenticate (no certificate, a
// certificate that does not verify) are audited like every 401, but an
// anonymous client must not be able to make one chained, synchronous audit
// write per request: a security review measured 1024 such connections
// pushing every partner's status answer past its 1 s bound and filling the
// append-only log with 140,000 rows in three minutes. So each remote
// address gets a small budget of audited refusals; past it the request is
// answered 429 rate_limited (Retry-After) and not audited, and the budget
// refills at anonAuditRate.
const (
	anonAuditRate  = 2  // audited anonymous refusals per second per address
	anonAuditBurst = 20 // and at most this many at once
	anonMaxClients = 10000
)

// anonLimiter holds one token bucket per remote address.
type anonLimiter struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newAnonLimiter() *anonLimiter { return &anonLimiter{clients: map[string]*rate.Limiter{}} }

// allow reports whether a refusal of remoteAddr (host:port) may be audited
// now; when not, retry is how long until it may.
func (a *anonLimiter) allow(remoteAddr string, now time.Time) (ok bool, retry time.Duration) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.clients[host]
	if l == nil {
		if len(a.clients) >= anonMaxClients {
			// Many addresses at once: start over rather than grow without
			// bound (each address then gets a fresh burst, still bounded).
			a.clients = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(anonAuditRate, anonAuditBurst)
		a.clients[host] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
