package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"

	"github.com/gatepass/gatepass"
)

// maxKeyName is the longest name put into a limiter key as it is; longer ones are
// hashed, so a huge username cannot make the limiter hold huge keys.
const maxKeyName = 128

// limitNames names the limit of each key prefix for Observer.RateLimited.
var limitNames = map[string]string{
	"login:user:": LimitLoginAccount,
	"login:ip:":   LimitLoginAddress,
	"refresh:ip:": LimitRefresh,
}

// limitLogin counts a sign-in attempt against the account and against the client
// address. The account key is the submitted name, whether or not such a user
// exists, so being limited tells nothing about which accounts exist (the answer
// is the same either way).
func (s *Service) limitLogin(ctx context.Context, req LoginRequest) error {
	err := s.limit(ctx, s.Limiter, req.Client, "login:user:", accountKey(req.Username))
	if err != nil {
		return err
	}
	return s.limit(ctx, s.Limiter, req.Client, "login:ip:", addressKey(req.Client.IPAddress))
}

// limit counts one attempt under prefix+name in l. It returns ETOOMANY with the
// wait when the key is over its limit, and nil when there is no limiter, no name,
// or the limiter failed (see Service.Limiter).
func (s *Service) limit(ctx context.Context, l gatepass.Limiter, c Client, prefix,
	name string) error {
	if l == nil || name == "" {
		return nil
	}
	ok, wait, err := l.Allow(ctx, prefix+name)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.Logger.Error("rate limiter failed, attempt allowed",
			attrLimit, strings.TrimSuffix(prefix, ":"), attrError, err)
		return nil
	} else if ok {
		return nil
	}

	s.Logger.Warn("rate limited", attrLimit, strings.TrimSuffix(prefix, ":"),
		attrRetry, wait, attrClientIP, c.IPAddress, attrUserAgent, c.UserAgent)
	s.observer().RateLimited(limitNames[prefix])
	return &gatepass.Error{Code: gatepass.ETOOMANY,
		Message: "too many attempts; try again later", RetryAfter: wait}
}

// addressKey is the limiter name of a client address. An IPv6 address counts by
// its /64, the block one subscriber is usually given: keying single IPv6 addresses
// would give an attacker 2^64 separate counts.
func addressKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is6() || addr.Is4In6() {
		return ip
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// accountKey is the limiter name of a submitted username: lowercased, so that
// case variants share one count, and hashed when long.
func accountKey(username string) string {
	name := strings.ToLower(username)
	if len(name) <= maxKeyName {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}
