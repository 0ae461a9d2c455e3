package crossborder

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits holds, per caller (a partner state, or a border station by its
// certificate CN), a token bucket of requests (golang.org/x/time/rate: rate
// r per second, burst max(1, r)) and the number of queries answered on the
// current UTC day. It lives in memory: a restart refills the buckets and
// resets the day's count (see the package documentation).
type limits struct {
	mu      sync.Mutex
	callers map[string]*callerLimit
}

type callerLimit struct {
	bucket *rate.Limiter
	day    string // YYYY-MM-DD (UTC) of used
	used   int
}

func newLimits() *limits { return &limits{callers: make(map[string]*callerLimit)} }

func burstOf(rps float64) int { return max(1, int(rps)) }

func (l *limits) get(key string, rps float64, now time.Time) *callerLimit {
	c := l.callers[key]
	if c == nil {
		c = &callerLimit{bucket: rate.NewLimiter(rate.Limit(rps), burstOf(rps))}
		l.callers[key] = c
	}
	// The registry may have changed the partner's rate since.
	if c.bucket.Limit() != rate.Limit(rps) {
		c.bucket.SetLimitAt(now, rate.Limit(rps))
		c.bucket.SetBurstAt(now, burstOf(rps))
	}
	return c
}

// allow takes one request's token; when there is none it says how long to
// wait for one.
func (l *limits) allow(key string, rps float64, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.get(key, rps, now)
	r := c.bucket.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, max(d, time.Second)
	}
	return true, 0
}

// spend counts n queries against the daily quota (0: none); when they do
// not fit it counts nothing and says how long until the next UTC day.
func (l *limits) spend(key string, n, quota int, now time.Time) (bool, time.Duration) {
	if quota <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.callers[key]
	if c == nil {
		c = &callerLimit{bucket: rate.NewLimiter(rate.Inf, 1)}
		l.callers[key] = c
	}
	u := now.UTC()
	day := u.Format(time.DateOnly)
	if c.day != day {
		c.day, c.used = day, 0
	}
	if c.used+n > quota {
		next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
		return false, max(next.Sub(u), time.Second)
	}
	c.used += n
	return true, 0
}
