package auth

import (
	"context"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

// lockoutKey is one key a sign-in is locked out by, the lockout that holds it,
// and the name of its limit for logs and Observer.RateLimited.
type lockoutKey struct {
	key     string
	lockout gatepass.Lockout
	limit   string
}

// Key prefixes of the lockouts. They are the rate limiter's, which is harmless:
// a lockout keeps its keys in a store, or under a Redis prefix, of its own.
const (
	lockoutAccountPrefix = "login:user:"
	lockoutAddressPrefix = "login:ip:"
)

// lockoutKeys returns the keys of a sign-in that the service has a lockout for:
// its account and its client address, named as for the rate limiter (see
// accountKey and addressKey). A sign-in without a name or an address has no key
// for it.
func (s *Service) lockoutKeys(req LoginRequest) []lockoutKey {
	var keys []lockoutKey
	if name := accountKey(req.Username); name != "" && s.Lockout != nil {
		keys = append(keys, lockoutKey{lockoutAccountPrefix + name, s.Lockout,
			LimitLockoutAccount})
	}
	if addr := addressKey(req.Client.IPAddress); addr != "" && s.AddressLockout != nil {
		keys = append(keys, lockoutKey{lockoutAddressPrefix + addr, s.AddressLockout,
			LimitLockoutAddress})
	}
	return keys
}

// checkLockout refuses a sign-in whose account or client address is locked,
// with the longer of the two waits. It runs before the user is looked up or the
// password hashed, so the answer is the same whether the account exists, is
// disabled or was given its right password: a correct guess made during a lock
// is never confirmed. A lockout that fails lets the attempt through (see
// Service.Lockout).
//
// Sign-ins already past this check when a lock starts still have their
// passwords verified: the rate limiter and the hashing slots bound how many
// guesses can race a lock that way.
func (s *Service) checkLockout(ctx context.Context, req LoginRequest) error {
	var wait time.Duration
	var limit string
	for _, k := range s.lockoutKeys(req) {
		d, err := k.lockout.Locked(ctx, k.key)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.Logger.Error("lockout failed, attempt allowed", attrLimit, k.limit,
				attrError, err)
			continue
		}
		if d > wait {
			wait, limit = d, k.limit
		}
	}
	if wait <= 0 {
		return nil
	}

	s.Logger.Warn("sign-in locked out", attrLimit, limit, attrRetry, wait,
		attrClientIP, req.Client.IPAddress, attrUserAgent, req.Client.UserAgent)
	s.observer().RateLimited(limit)
	return &gatepass.Error{Code: gatepass.ETOOMANY,
		Message: "too many attempts; try again later", RetryAfter: wait}
}

// lockoutFailed counts a sign-in refused for its credentials against its
// account and its client address. The failure is recorded even if the client
// has hung up: waiting for no answer must not be a way around the count. It
// returns the locks the failure started, such as "lockout_account=8s", for the
// audit trail; "" for none.
func (s *Service) lockoutFailed(ctx context.Context, req LoginRequest) string {
	ctx = context.WithoutCancel(ctx)
	var locks []string
	for _, k := range s.lockoutKeys(req) {
		lock, err := k.lockout.Fail(ctx, k.key)
		if err != nil {
			s.Logger.Error("lockout failed, failure not counted", attrLimit, k.limit,
				attrError, err)
		} else if lock > 0 {
			s.Logger.Warn("sign-ins locked", attrLimit, k.limit, attrRetry, lock,
				attrClientIP, req.Client.IPAddress)
			locks = append(locks, k.limit+"="+lock.String())
		}
	}
	return strings.Join(locks, " ")
}

// lockoutSucceeded forgets the failures of a signed-in account. The client
// address keeps its count: otherwise an attacker could sign in to an account of
// their own between guesses and so never be locked out.
func (s *Service) lockoutSucceeded(ctx context.Context, req LoginRequest) {
	name := accountKey(req.Username)
	if s.Lockout == nil || name == "" {
		return
	}

	err := s.Lockout.Reset(context.WithoutCancel(ctx), lockoutAccountPrefix+name)
	if err != nil {
		s.Logger.Error("lockout reset failed", attrLimit, LimitLockoutAccount,
			attrError, err)
	}
}
