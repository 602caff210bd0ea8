// Package ratelimit keeps sign-in limits in memory, for a single instance: a
// gatepass.Limiter with one token bucket per key, and a gatepass.Lockout that
// counts failures per key. Instances behind a load balancer each count on their
// own; use the redis package to share one count between them.
package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gatepass/gatepass"
)

// DefaultMaxKeys is how many keys a Limiter tracks unless told otherwise.
const DefaultMaxKeys = 100_000

// Ensure Limiter implements gatepass.Limiter.
var _ gatepass.Limiter = (*Limiter)(nil)

// Limiter allows each key limit attempts per period, refilled evenly, with a burst
// of limit. Set the optional fields before the first call to Allow.
type Limiter struct {
	every  rate.Limit
	burst  int
	refill time.Duration // from empty to full

	// MaxKeys bounds how many keys are tracked, so a flood of distinct keys (one
	// username or address per request) cannot exhaust memory. When full, the key
	// used least recently is forgotten. Someone who can send MaxKeys distinct
	// keys within one period can so reset a count early; the per-address key
	// of the same request still holds them back.
	MaxKeys int

	// Now is the clock; tests replace it.
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element
	lru     list.List // of *bucket, most recently used at the front
}

// bucket is the token bucket of one key.
type bucket struct {
	key      string
	lim      *rate.Limiter
	lastUsed time.Time
}

// NewLimiter returns a limiter that allows limit attempts per period and key.
func NewLimiter(limit int, period time.Duration) *Limiter {
	return &Limiter{
		every:   rate.Limit(float64(limit) / period.Seconds()),
		burst:   limit,
		refill:  period,
		MaxKeys: DefaultMaxKeys,
		Now:     time.Now,
		buckets: make(map[string]*list.Element),
	}
}

// Allow takes one token from key's bucket. When the bucket is empty it takes
// nothing and returns false with the time until a token is back. It never fails.
func (l *Limiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.Now()
	l.forgetIdle(now)
	b := l.bucket(key, now)

	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		// Only a zero burst gets here: nothing is ever allowed.
		return false, 0, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// Len returns how many keys are tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// bucket returns key's bucket, marked used at now, creating it if needed.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		b.lastUsed = now
		return b
	}

	for l.MaxKeys > 0 && len(l.buckets) >= l.MaxKeys {
		l.remove(l.lru.Back())
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.every, l.burst), lastUsed: now}
	l.buckets[key] = l.lru.PushFront(b)
	return b
}

// forgetIdle drops the buckets that have been idle long enough to refill
// completely. A full bucket is exactly what a new key gets, so forgetting one
// changes no answer; it only frees the memory.
func (l *Limiter) forgetIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if now.Sub(e.Value.(*bucket).lastUsed) < l.refill {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).key)
	l.lru.Remove(e)
}
