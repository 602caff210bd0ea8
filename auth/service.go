// Package auth implements the token service: sign-in, refresh-token rotation with
// reuse detection, revocation, introspection and key management. It knows nothing of
// HTTP or SQL: it talks to storage only through gatepass.Store.
package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

// Log attribute keys, fixed so that log queries keep working.
const (
	attrUserID    = "user_id"
	attrSessionID = "session_id"
	attrClientIP  = "client_ip"
	attrUserAgent = "user_agent"
	attrKeyID     = "kid"
	attrReason    = "reason"
	attrError     = "error"
	attrAlg       = "alg"
	attrCount     = "count"
	attrLimit     = "limit"
	attrRetry     = "retry_after"

	attrSessions      = "sessions"
	attrRefreshTokens = "refresh_tokens"
	attrKeys          = "keys"
	attrAuditEvents   = "audit_events"
)

// Service is the token service. Set the optional exported fields before Open.
type Service struct {
	store  gatepass.Store
	hasher *password.Hasher
	cfg    Config

	// Logger receives sign-in, refresh, reuse and revocation events. It never
	// receives a token, a password or key material.
	Logger *slog.Logger

	// Now is the clock; tests replace it.
	Now func() time.Time

	// Rand is the source of refresh tokens, session ids and token ids.
	Rand io.Reader

	// HashWait bounds how long a sign-in waits for a free password-hashing slot
	// before it is refused with EUNAVAILABLE.
	HashWait time.Duration

	// Limiter, when set, caps sign-in attempts per account and per client
	// address; nil means no limit. A limiter that fails lets the attempt through
	// and logs an Error: an outage of the limiter's store must not lock every user
	// out, and the hashing slots (HashWait) still bound how fast passwords can be
	// tried.
	Limiter gatepass.Limiter

	// RefreshLimiter, when set, caps refreshes per client address, and fails open
	// like Limiter. It is separate because many honest users behind one address
	// refresh far more often than they sign in.
	RefreshLimiter gatepass.Limiter

	// Lockout, when set, locks an account out of sign-in for a growing time
	// after repeated failures; nil means never. It fails open like Limiter, for
	// the same reasons.
	Lockout gatepass.Lockout

	// AddressLockout does the same per client address. It is separate because
	// many honest users may share one address (a NAT, a proxy), so it wants a
	// more lenient policy than one account does.
	AddressLockout gatepass.Lockout

	// Observer, when set, is told of sign-ins, refreshes, reuse detections,
	// revocations and rate-limit refusals, for metrics; nil means nobody is.
	Observer Observer

	keys          atomic.Pointer[keyring]
	refreshSecret []byte

	// revocations is nil unless Config.RevocationCheck is on.
	revocations *revocationList
}

// NewService returns a service over store that hashes passwords with hasher.
func NewService(store gatepass.Store, hasher *password.Hasher, cfg Config) *Service {
	return &Service{
		store:    store,
		hasher:   hasher,
		cfg:      cfg,
		Logger:   slog.Default().With("component", "auth"),
		Now:      time.Now,
		Rand:     rand.Reader,
		HashWait: 10 * time.Second,
	}
}

// Config returns the service's configuration.
func (s *Service) Config() Config {
	return s.cfg
}

// Open validates the configuration, creates the signing key and the refresh-token
// secret on first start, and loads the keys.
func (s *Service) Open(ctx context.Context) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}

	secret, err := s.ensureSecret(ctx, refreshSecretName, 32)
	if err != nil {
		return fmt.Errorf("refresh secret: %w", err)
	}
	s.refreshSecret = secret

	if err := s.ensureSigningKey(ctx); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if err := s.openRevocations(ctx); err != nil {
		return err
	}
	return s.ReloadKeys(ctx)
}

// Ready reports whether the store, and a limiter kept on a server, answer.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	} else if err := s.revocationsReady(); err != nil {
		return err
	}
	for _, l := range []any{s.Limiter, s.RefreshLimiter, s.Lockout, s.AddressLockout} {
		if p, ok := l.(pinger); ok {
			if err := p.Ping(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// pinger is a dependency, such as a shared rate limiter, that can say whether it
// answers.
type pinger interface {
	Ping(ctx context.Context) error
}

// now returns the current time from the injected clock, in UTC and truncated to the
// microsecond precision both storage engines keep, so stored and computed times agree.
func (s *Service) now() time.Time {
	return s.Now().UTC().Truncate(time.Microsecond)
}

// ensureSecret returns the named server secret, creating it with n random bytes if
// it does not exist yet. Two instances starting at once agree on one value: the
// one that loses the race to create it reads the winner's.
func (s *Service) ensureSecret(ctx context.Context, name string, n int) ([]byte, error) {
	value, err := s.findOrCreateSecret(ctx, name, n)
	if gatepass.ErrorCode(err) == gatepass.ECONFLICT {
		value, err = s.findOrCreateSecret(ctx, name, n)
	}
	return value, err
}

func (s *Service) findOrCreateSecret(ctx context.Context, name string, n int) ([]byte,
	error) {
	var value []byte
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		v, err := tx.FindSecret(ctx, name)
		if err == nil {
			value = v
			return nil
		} else if gatepass.ErrorCode(err) != gatepass.ENOTFOUND {
			return err
		}

		v = make([]byte, n)
		if _, err := io.ReadFull(s.Rand, v); err != nil {
			return fmt.Errorf("read random: %w", err)
		}
		value = v
		return tx.CreateSecret(ctx, name, v)
	})
	return value, err
}

// randomString returns n random bytes encoded as unpadded base64url.
func (s *Service) randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return encoding.EncodeToString(b), nil
}
