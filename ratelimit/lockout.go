package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/gatepass/gatepass"
)

// Ensure Lockout implements gatepass.Lockout.
var _ gatepass.Lockout = (*Lockout)(nil)

// Lockout is an in-memory gatepass.Lockout for a single instance: each instance
// behind a load balancer counts failures on its own; use the redis package to
// share one count between them. Set the optional fields before the first call.
type Lockout struct {
	policy gatepass.LockoutPolicy

	// MaxKeys bounds how many keys are tracked, so a flood of distinct keys
	// cannot exhaust memory. When full, the key whose last failure is oldest is
	// forgotten: it is the nearest to being forgotten anyway. Filling the table
	// takes MaxKeys failures within the policy's Forget period, and each of them
	// also counts against the client address that made it.
	MaxKeys int

	// Now is the clock; tests replace it.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	order   list.List // of *failures, latest failure at the front
}

// failures is what a Lockout knows of one key.
type failures struct {
	key   string
	n     int       // failures in a row
	last  time.Time // of the latest failure
	until time.Time // end of the lock, if any
}

// NewLockout returns a lockout that follows p, which must be valid (see
// gatepass.LockoutPolicy.Validate).
func NewLockout(p gatepass.LockoutPolicy) *Lockout {
	return &Lockout{
		policy:  p,
		MaxKeys: DefaultMaxKeys,
		Now:     time.Now,
		entries: make(map[string]*list.Element),
	}
}

// Locked returns how long key stays locked, zero when it is not. It never fails.
func (l *Lockout) Locked(_ context.Context, key string) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.Now()
	l.forgetQuiet(now)
	e, ok := l.entries[key]
	if !ok {
		return 0, nil
	}
	return max(e.Value.(*failures).until.Sub(now), 0), nil
}

// Fail records a failure for key and returns how long key is now locked. It
// never fails.
func (l *Lockout) Fail(_ context.Context, key string) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.Now()
	l.forgetQuiet(now)
	f := l.failures(key)

	f.n++
	f.last = now
	lock := l.policy.Delay(f.n)
	f.until = now.Add(lock)
	return lock, nil
}

// Reset forgets key's failures. It never fails.
func (l *Lockout) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()

	if e, ok := l.entries[key]; ok {
		l.remove(e)
	}
	return nil
}

// Len returns how many keys are tracked.
func (l *Lockout) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// failures returns key's entry, moved to the front because a failure is about
// to be recorded, creating it if needed.
func (l *Lockout) failures(key string) *failures {
	if e, ok := l.entries[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*failures)
	}

	for l.MaxKeys > 0 && len(l.entries) >= l.MaxKeys {
		l.remove(l.order.Back())
	}
	f := &failures{key: key}
	l.entries[key] = l.order.PushFront(f)
	return f
}

// forgetQuiet drops the keys whose last failure is at least the policy's Forget
// period old. Their locks are over, since Forget is at least Max, and a new key
// is what they would be treated as, so this changes no answer; it frees memory.
// Entries are in order of their last failure, so it stops at the first one kept.
func (l *Lockout) forgetQuiet(now time.Time) {
	for e := l.order.Back(); e != nil; e = l.order.Back() {
		if now.Sub(e.Value.(*failures).last) < l.policy.Forget {
			return
		}
		l.remove(e)
	}
}

func (l *Lockout) remove(e *list.Element) {
	delete(l.entries, e.Value.(*failures).key)
	l.order.Remove(e)
}
