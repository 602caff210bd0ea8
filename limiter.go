package gatepass

import (
	"context"
	"time"
)

// Limiter counts attempts per key and says when a key has had too many. Keys are
// opaque strings such as "login:user:alice" or "login:ip:192.0.2.1"; a limiter
// never interprets them.
type Limiter interface {
	// Allow records one attempt for key. It returns ok false when the key is over
	// its limit, with retryAfter the time until the next attempt would be allowed.
	// A limiter that cannot decide (its store is down) returns EUNAVAILABLE.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Lockout holds a key back after repeated failures: past a few free ones, each
// failure locks the key for longer. Its count is forgotten after a quiet period,
// so a locked key unlocks by itself with nobody's help. Keys are opaque strings,
// as for Limiter.
type Lockout interface {
	// Locked returns how long key stays locked, zero when it is not. A lockout
	// that cannot decide (its store is down) returns EUNAVAILABLE.
	Locked(ctx context.Context, key string) (time.Duration, error)

	// Fail records one failure for key and returns how long key is now locked:
	// zero while it has free failures left. It returns EUNAVAILABLE when its
	// store is down.
	Fail(ctx context.Context, key string) (time.Duration, error)

	// Reset forgets key's failures and lifts its lock. It returns EUNAVAILABLE
	// when its store is down.
	Reset(ctx context.Context, key string) error
}

// LockoutPolicy says how a Lockout's locks grow: after Free failures, the next
// one locks the key for Base, and each one after that doubles the lock, up to
// Max. A key with no failure for Forget starts again from nothing.
type LockoutPolicy struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// DefaultLockoutPolicy returns 5 free failures, then locks of 1s, 2s, 4s and so
// on up to 15m, forgotten 30m after the last failure.
//
// Five free failures leave room for typos, a stuck caps lock and an old
// password. The first locks are shorter than retyping, so an honest user hardly
// sees them, yet ten failures later the lock is over 8 minutes. At the cap, one
// account or address gets about four guesses an hour, about a hundred a day; a
// victim locked out by someone else's guesses waits at most 15 minutes after the
// last of them. A longer cap would slow guessing further but make that denial
// of service cheaper to keep up. Forgetting after twice the cap means a guesser
// at the cap, who waits out each lock, never gets the count back to zero.
func DefaultLockoutPolicy() LockoutPolicy {
	return LockoutPolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute,
		Forget: 30 * time.Minute}
}

// DefaultAddressLockoutPolicy returns the policy of DefaultLockoutPolicy with 20
// free failures, for a client address rather than an account. Many honest users
// may share one address behind a NAT or a proxy, and one person's typos should
// not lock all of them out. An address that sprays guesses over many accounts
// is still held back: ten failures past its free ones, its lock is over 8 minutes.
func DefaultAddressLockoutPolicy() LockoutPolicy {
	p := DefaultLockoutPolicy()
	p.Free = 20
	return p
}

// Validate returns EINVALID naming the first field that is out of range. Stores
// keep milliseconds, so Base must be at least 1ms; a lock must end before its
// count is forgotten, so Forget must be at least Max.
func (p LockoutPolicy) Validate() error {
	if p.Free < 0 {
		return Errorf(EINVALID, "lockout: free failures must not be negative, got %d",
			p.Free)
	} else if p.Base < time.Millisecond {
		return Errorf(EINVALID, "lockout: base must be at least 1ms, got %s", p.Base)
	} else if p.Max < p.Base {
		return Errorf(EINVALID, "lockout: max must be at least base (%s), got %s",
			p.Base, p.Max)
	} else if p.Forget < p.Max {
		return Errorf(EINVALID, "lockout: forget must be at least max (%s), got %s",
			p.Max, p.Forget)
	}
	return nil
}

// Delay returns how long the failures-th failure in a row locks its key.
func (p LockoutPolicy) Delay(failures int) time.Duration {
	over := failures - p.Free
	if over <= 0 {
		return 0
	}
	d := p.Base
	for i := 1; i < over && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}
