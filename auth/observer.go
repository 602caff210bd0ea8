package auth

import (
	"context"
	"errors"

	"github.com/gatepass/gatepass"
)

// Observer is told of the service's security events as they are decided, so that
// they can be counted (package metrics implements it). Its methods run on the
// request path: they must be fast, must not block and must be safe for concurrent
// use. Every string they receive is one of this package's Outcome or Limit
// constants or a gatepass Revoke reason, never data from a request.
type Observer interface {
	// SignIn reports the outcome of a password sign-in.
	SignIn(outcome string)

	// Refresh reports the outcome of a refresh-token exchange: OutcomeSuccess,
	// OutcomeReplay and OutcomeReuse once the rotation committed.
	Refresh(outcome string)

	// ReuseDetected reports a rotated refresh token presented after the reuse
	// interval, once the revocation of its session committed.
	ReuseDetected()

	// SessionsRevoked reports n sessions revoked for reason (gatepass.RevokeLogout
	// and the other Revoke constants), once the revocation committed.
	SessionsRevoked(reason string, n int)

	// RateLimited reports an attempt refused by the named limit.
	RateLimited(limit string)
}

// Outcomes of a sign-in or a refresh, as reported to Observer.
const (
	OutcomeSuccess = "success"

	// OutcomeReplay is a rotated refresh token presented again inside the reuse
	// interval, answered with the session's current token.
	OutcomeReplay = "replay"

	// OutcomeReuse is a rotated refresh token presented after the reuse interval:
	// its session was revoked.
	OutcomeReuse = "reuse"

	// OutcomeInvalidCredentials is a sign-in with an unknown user, a wrong
	// password or a disabled account.
	OutcomeInvalidCredentials = "invalid_credentials"

	// OutcomeInvalid is a refused request: a refresh token that is malformed,
	// unknown, expired or of a dead session, or a scope or client not allowed.
	OutcomeInvalid = "invalid"

	OutcomeRateLimited = "rate_limited"

	// OutcomeUnavailable is a request refused because the database could not be
	// reached or every password-hashing slot stayed busy.
	OutcomeUnavailable = "unavailable"

	// OutcomeCanceled is a request its client gave up on before it was decided.
	OutcomeCanceled = "canceled"

	// OutcomeError is an internal failure.
	OutcomeError = "error"
)

// Limits an attempt can be refused by, as reported to Observer.RateLimited.
const (
	LimitLoginAccount = "login_account"
	LimitLoginAddress = "login_address"
	LimitRefresh      = "refresh"

	// LimitLockoutAccount and LimitLockoutAddress are sign-ins refused because
	// their account or their client address is locked after repeated failures.
	LimitLockoutAccount = "lockout_account"
	LimitLockoutAddress = "lockout_address"
)

// nopObserver is the Observer of a service without one.
type nopObserver struct{}

func (nopObserver) SignIn(string)               {}
func (nopObserver) Refresh(string)              {}
func (nopObserver) ReuseDetected()              {}
func (nopObserver) SessionsRevoked(string, int) {}
func (nopObserver) RateLimited(string)          {}

// observer returns the service's Observer, or one that does nothing.
func (s *Service) observer() Observer {
	if s.Observer == nil {
		return nopObserver{}
	}
	return s.Observer
}

// sessionsRevoked reports n sessions revoked for reason, if there were any.
func (s *Service) sessionsRevoked(reason string, n int) {
	if n > 0 {
		s.observer().SessionsRevoked(reason, n)
	}
}

// failureOutcome names the outcome of a request that failed with err.
// unauthorized is the outcome of an EUNAUTHORIZED error, which means bad
// credentials for a sign-in and a dead token for a refresh.
func failureOutcome(err error, unauthorized string) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return OutcomeCanceled
	}
	switch gatepass.ErrorCode(err) {
	case gatepass.EUNAUTHORIZED:
		return unauthorized
	case gatepass.ETOOMANY:
		return OutcomeRateLimited
	case gatepass.EUNAVAILABLE:
		return OutcomeUnavailable
	case gatepass.EINTERNAL:
		return OutcomeError
	}
	return OutcomeInvalid
}

// signInOutcome names the outcome of a sign-in that returned err.
func signInOutcome(err error) string {
	if err == nil {
		return OutcomeSuccess
	}
	return failureOutcome(err, OutcomeInvalidCredentials)
}
