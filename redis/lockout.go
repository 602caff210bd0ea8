package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
)

// DefaultLockoutPrefix starts every key the lockout writes.
const DefaultLockoutPrefix = "gatepass:lockout:"

// Ensure Lockout implements gatepass.Lockout.
var _ gatepass.Lockout = (*Lockout)(nil)

// errLockoutUnavailable is returned, wrapping the cause, whenever Redis does not
// answer a lockout.
var errLockoutUnavailable = gatepass.Errorf(gatepass.EUNAVAILABLE, "lockout unavailable")

// Each key is a hash: n, the failures in a row; last, the time of the latest in
// ms; until, the end of its lock in ms. It expires the policy's Forget after the
// latest failure, so Redis forgets quiet keys by itself. Each operation is one
// script, run atomically, so failures recorded by several instances at once
// are all counted. ARGV[1] is the current time in ms, or "" for Redis's clock.
const lockoutNow = `
local now
if ARGV[1] == "" then
	local t = redis.call("TIME")
	now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
	now = tonumber(ARGV[1])
end
`

// lockoutFail records a failure: ARGV[2..5] are the policy's Free, Base, Max and
// Forget in ms. The count restarts when the latest failure is Forget old, even
// if the key has not expired yet (a clock passed in may run ahead of Redis's).
// It returns the lock in ms, computed as gatepass.LockoutPolicy.Delay does.
var lockoutFail = goredis.NewScript(lockoutNow + `
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local forget = tonumber(ARGV[5])

local st = redis.call("HMGET", KEYS[1], "n", "last")
local n = 0
if st[1] and st[2] and now - tonumber(st[2]) < forget then
	n = tonumber(st[1])
end
n = n + 1

local lock = 0
if n > free then
	lock = base
	local i = 1
	while i < n - free and lock < cap do
		lock = lock * 2
		i = i + 1
	end
	if lock > cap then
		lock = cap
	end
end
redis.call("HSET", KEYS[1], "n", n, "last", now, "until", now + lock)
redis.call("PEXPIRE", KEYS[1], forget)
return lock
`)

// lockoutLocked returns the ms left of the key's lock, 0 when it is not locked.
var lockoutLocked = goredis.NewScript(lockoutNow + `
local ends = tonumber(redis.call("HGET", KEYS[1], "until") or 0)
if ends <= now then
	return 0
end
return ends - now
`)

// Lockout is a gatepass.Lockout kept in Redis, so that every instance behind a
// load balancer sees the same failures and the same locks. Set the optional
// fields before Open.
type Lockout struct {
	url    string
	policy gatepass.LockoutPolicy
	client *goredis.Client

	// Prefix starts every key written, so several services can share a server.
	Prefix string

	// Now, when set, is the clock; tests replace it. By default the Redis
	// server's clock is used, so instances whose clocks disagree still agree on
	// when a lock ends.
	Now func() time.Time
}

// NewLockout returns a lockout that follows p, which must be valid (see
// gatepass.LockoutPolicy.Validate), on the Redis server at url
// (redis://[user:password@]host:port/db or rediss:// for TLS).
func NewLockout(url string, p gatepass.LockoutPolicy) *Lockout {
	return &Lockout{url: url, policy: p, Prefix: DefaultLockoutPrefix}
}

// Open connects to the server. It does not wait for an answer; see Ping.
func (l *Lockout) Open() error {
	c, err := newClient(l.url)
	if err != nil {
		return err
	}
	l.client = c
	return nil
}

// Close closes the connections to the server.
func (l *Lockout) Close() error {
	if l.client == nil {
		return nil
	}
	return l.client.Close()
}

// Ping checks that the server answers. It returns EUNAVAILABLE if it does not.
func (l *Lockout) Ping(ctx context.Context) error {
	if err := l.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w: %w", errLockoutUnavailable, err)
	}
	return nil
}

// Locked returns how long key stays locked, zero when it is not. It returns
// EUNAVAILABLE when Redis does not answer.
func (l *Lockout) Locked(ctx context.Context, key string) (time.Duration, error) {
	ms, err := lockoutLocked.Run(ctx, l.client, []string{l.Prefix + key}, l.now()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis lockout: %w: %w", errLockoutUnavailable, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Fail records a failure for key and returns how long key is now locked. It
// returns EUNAVAILABLE when Redis does not answer; the failure may then be
// counted or not.
func (l *Lockout) Fail(ctx context.Context, key string) (time.Duration, error) {
	p := l.policy
	args := []any{l.now(), p.Free, p.Base.Milliseconds(), p.Max.Milliseconds(),
		p.Forget.Milliseconds()}
	ms, err := lockoutFail.Run(ctx, l.client, []string{l.Prefix + key}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis lockout: %w: %w", errLockoutUnavailable, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Reset forgets key's failures: one DEL, atomic like the scripts. It returns
// EUNAVAILABLE when Redis does not answer.
func (l *Lockout) Reset(ctx context.Context, key string) error {
	if err := l.client.Del(ctx, l.Prefix+key).Err(); err != nil {
		return fmt.Errorf("redis lockout reset: %w: %w", errLockoutUnavailable, err)
	}
	return nil
}

// now returns the script argument for the current time: ms from Now, or "" for
// the server's clock.
func (l *Lockout) now() string {
	if l.Now == nil {
		return ""
	}
	return strconv.FormatInt(l.Now().UnixMilli(), 10)
}

// newClient returns a client for the server at url, tuned for the request path.
func newClient(url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		// The message may quote the URL, password included: leave it out.
		return nil, gatepass.Errorf(gatepass.EINVALID,
			"redis: url is not a valid redis:// URL")
	}
	// A sign-in waits for the answer: when Redis is down, give up within about a
	// second rather than go-redis's several seconds of retries.
	opt.MaxRetries = 1
	opt.DialerRetries = 1
	opt.DialTimeout = time.Second
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	return goredis.NewClient(opt), nil
}
