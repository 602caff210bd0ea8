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
