// Package redis keeps the sign-in limits in Redis, a gatepass.Limiter and a
// gatepass.Lockout, so that every instance behind a load balancer shares one
// count per key.
package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
)

// DefaultPrefix starts every key the limiter writes.
const DefaultPrefix = "gatepass:ratelimit:"

// Ensure Limiter implements gatepass.Limiter.
var _ gatepass.Limiter = (*Limiter)(nil)

// errUnavailable is returned, wrapping the cause, whenever Redis does not answer.
var errUnavailable = gatepass.Errorf(gatepass.EUNAVAILABLE, "rate limiter unavailable")

// gcra is the generic cell rate algorithm (the token bucket, stored as one
// timestamp per key): KEYS[1] holds the theoretical arrival time (TAT) in
// milliseconds; ARGV is the emission interval T in ms, the burst, and the current
// time in ms or "" for Redis's own clock. It returns {1, 0} when allowed, else
// {0, ms to wait}. One script runs atomically, so concurrent instances never
// both take the last token.
var gcra = goredis.NewScript(`
local now
if ARGV[3] == "" then
	local t = redis.call("TIME")
	now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
	now = tonumber(ARGV[3])
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])

local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then
	tat = now
end
local next = tat + interval
local allowAt = next - burst * interval
if allowAt > now then
	return {0, allowAt - now}
end
redis.call("SET", KEYS[1], next, "PX", next - now)
return {1, 0}
`)

// Limiter allows each key limit attempts per period, refilled evenly, with a
// burst of limit. Set the optional fields before Open.
type Limiter struct {
	url      string
	interval time.Duration // one attempt comes back every interval
	burst    int
	client   *goredis.Client

	// Prefix starts every key written, so several services can share a server.
	Prefix string

	// Now, when set, is the clock; tests replace it. By default the Redis
	// server's clock is used, so instances whose clocks disagree still agree on
	// the count.
	Now func() time.Time
}

// NewLimiter returns a limiter on the Redis server at url
// (redis://[user:password@]host:port/db or rediss:// for TLS).
func NewLimiter(url string, limit int, period time.Duration) *Limiter {
	// Redis keeps milliseconds; a zero interval would make the expiry invalid.
	interval := max(period/time.Duration(max(limit, 1)), time.Millisecond)
	return &Limiter{url: url, interval: interval, burst: limit, Prefix: DefaultPrefix}
}

// Open connects to the server. It does not wait for an answer; see Ping.
func (l *Limiter) Open() error {
	client, err := newClient(l.url)
	if err != nil {
		return err
	}
	l.client = client
	return nil
}

// Close closes the connections to the server.
func (l *Limiter) Close() error {
	if l.client == nil {
		return nil
	}
	return l.client.Close()
}

// Ping checks that the server answers. It returns EUNAVAILABLE if it does not.
func (l *Limiter) Ping(ctx context.Context) error {
	if err := l.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w: %w", errUnavailable, err)
	}
	return nil
}

// Allow records one attempt for key. It returns EUNAVAILABLE when Redis does not
// answer, and then the caller decides whether to let the attempt through.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := ""
	if l.Now != nil {
		now = strconv.FormatInt(l.Now().UnixMilli(), 10)
	}
	args := []any{l.interval.Milliseconds(), l.burst, now}

	res, err := gcra.Run(ctx, l.client, []string{l.Prefix + key}, args...).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis rate limit: %w: %w", errUnavailable, err)
	} else if len(res) != 2 {
		return false, 0, fmt.Errorf("redis rate limit: %w: script returned %d values",
			errUnavailable, len(res))
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
