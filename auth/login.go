package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
)

// LoginRequest is a password sign-in.
type LoginRequest struct {
	Username string
	Password string
	Scope    string
	Client   Client
}

// Login checks a username and password and starts a new session. An unknown user, a
// wrong password and a disabled account all cost one password verification and all
// return ErrInvalidCredentials, so neither timing nor answer tells them apart.
func (s *Service) Login(ctx context.Context, req LoginRequest) (_ *TokenPair, err error) {
	defer func() { s.observer().SignIn(signInOutcome(err)) }()

	scope, err := s.grantScope(req.Scope)
	if err != nil {
		return nil, err
	}
	clientID, err := s.clientID(req.Client)
	if err != nil {
		return nil, err
	}

	if err := s.limitLogin(ctx, req); err != nil {
		return nil, err
	}
	if err := s.checkLockout(ctx, req); err != nil {
		return nil, err
	}

	// Hashing is slow and memory-hungry: wait a bounded time for a free slot, so
	// a flood of sign-ins is refused quickly instead of queueing without end.
	hashCtx, cancel := context.WithTimeout(ctx, s.HashWait)
	defer cancel()
	checked, err := s.checkPassword(hashCtx, req)
	if err != nil {
		if ctx.Err() == nil && hashCtx.Err() != nil {
			return nil, errBusy
		}
		return nil, err
	}

	pair, err := s.startSession(ctx, checked, scope, clientID, req.Client)
	if errors.Is(err, gatepass.ErrInvalidCredentials) {
		s.recordFailedSignIn(ctx, req, checked.user.ID, reasonAccountChanged, "")
	}
	if err != nil {
		return nil, err
	}
	s.lockoutSucceeded(ctx, req)
	s.Logger.Info("sign-in succeeded", attrUserID, checked.user.ID,
		attrSessionID, pair.SessionID, attrClientIP, req.Client.IPAddress)
	return pair, nil
}

// errBusy answers sign-ins that found every hashing slot taken for too long.
var errBusy = gatepass.Errorf(gatepass.EUNAVAILABLE,
	"too many sign-ins at once; try again shortly")

// checkedUser is a user whose password was just verified.
type checkedUser struct {
	user *gatepass.User

	// upgrade, when set, replaces a hash in an older format or with weaker
	// parameters.
	upgrade string
}

// checkPassword returns the user if the password is right and the account enabled.
func (s *Service) checkPassword(ctx context.Context, req LoginRequest) (*checkedUser, error) {
	var u *gatepass.User
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		u, err = tx.FindUserByName(ctx, req.Username)
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND || req.Username == "" {
		s.hasher.VerifyDummy(ctx, req.Password)
		if ctx.Err() != nil {
			// No hashing slot came free: the attempt was never judged, as
			// for a known account, so it counts towards no lockout.
			return nil, ctx.Err()
		}
		s.loginFailed(ctx, req, 0, reasonUnknownUser)
		return nil, gatepass.ErrInvalidCredentials
	} else if err != nil {
		return nil, err
	}

	ok, rehash, err := s.hasher.Verify(ctx, req.Password, u.PasswordHash)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Spend the time a real hash would, so this account does not stand out.
		s.hasher.VerifyDummy(ctx, req.Password)
		s.Logger.Error("stored password hash unusable", attrUserID, u.ID, attrError, err)
		s.loginFailed(ctx, req, u.ID, reasonUnusableHash)
		return nil, gatepass.ErrInvalidCredentials
	} else if !ok {
		s.loginFailed(ctx, req, u.ID, reasonWrongPassword)
		return nil, gatepass.ErrInvalidCredentials
	} else if u.Disabled {
		s.loginFailed(ctx, req, u.ID, reasonDisabled)
		return nil, gatepass.ErrInvalidCredentials
	}

	checked := &checkedUser{user: u}
	if rehash {
		// A failed upgrade costs nothing: the old hash keeps working.
		if checked.upgrade, err = s.hasher.Hash(ctx, req.Password); err != nil {
			s.Logger.Error("password hash upgrade failed", attrUserID, u.ID, attrError, err)
		}
	}
	return checked, nil
}

// loginFailed counts a sign-in refused for its credentials towards the
// lockouts, then logs it and records it in the audit trail, with the locks it
// started.
func (s *Service) loginFailed(ctx context.Context, req LoginRequest, userID int64,
	reason string) {
	locks := s.lockoutFailed(ctx, req)
	s.recordFailedSignIn(ctx, req, userID, reason, locks)
}

// recordFailedSignIn logs a refused sign-in and records it in the audit trail, with the
// name as submitted, the server's reason and the locks it started (in Detail);
// never the password.
func (s *Service) recordFailedSignIn(ctx context.Context, req LoginRequest, userID int64,
	reason, locks string) {
	c := req.Client
	s.Logger.Warn("sign-in failed", attrUserID, userID, attrReason, reason,
		attrClientIP, c.IPAddress, attrUserAgent, c.UserAgent)
	s.recordAlone(ctx, c, &gatepass.AuditEvent{OccurredAt: s.now(),
		Kind: gatepass.AuditSignInFailed, UserID: userID, Username: req.Username,
		Reason: reason, Detail: locks})
}

// startSession creates a session and its first refresh token in one transaction.
// The user is read again inside it: if the password changed or the account was
// disabled since the password was checked, the sign-in is refused, so it can
// neither undo that change nor escape the revocation that came with it.
func (s *Service) startSession(ctx context.Context, checked *checkedUser, scope,
	clientID string, c Client) (*TokenPair, error) {
	u := checked.user
	sid, err := s.randomString(16)
	if err != nil {
		return nil, err
	}
	refresh, err := s.randomString(refreshTokenBytes)
	if err != nil {
		return nil, err
	}

	now := s.now()
	sess := &gatepass.Session{
		ID:         sid,
		UserID:     u.ID,
		ClientID:   clientID,
		Scope:      scope,
		UserAgent:  truncate(c.UserAgent, 512),
		IPAddress:  truncate(c.IPAddress, 64),
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(s.cfg.SessionTTL),
	}
	rt := &gatepass.RefreshToken{
		Hash:      hashRefreshToken(refresh),
		SessionID: sid,
		CreatedAt: now,
		ExpiresAt: minTime(now.Add(s.cfg.RefreshTTL), sess.ExpiresAt),
	}

	err = s.store.Update(ctx, func(tx gatepass.Tx) error {
		if err := s.recheckUser(ctx, tx, checked, now); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateRefreshToken(ctx, rt); err != nil {
			return err
		}
		return s.record(ctx, tx, c, &gatepass.AuditEvent{OccurredAt: now,
			Kind: gatepass.AuditSignIn, UserID: u.ID, Username: u.Name, SessionID: sid})
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return s.pair(u, sess, scope, refresh, rt.ExpiresAt, now)
}

// recheckUser refuses a sign-in whose user changed since the password check, and
// stores an upgraded hash when there is one.
func (s *Service) recheckUser(ctx context.Context, tx gatepass.Tx, checked *checkedUser,
	now time.Time) error {
	current, err := tx.FindUserByID(ctx, checked.user.ID)
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return gatepass.ErrInvalidCredentials
	} else if err != nil {
		return err
	} else if current.Disabled || current.PasswordHash != checked.user.PasswordHash {
		return gatepass.ErrInvalidCredentials
	}

	if checked.upgrade == "" {
		return nil
	}
	s.Logger.Info("password hash upgraded", attrUserID, current.ID)
	err = tx.UpdateUser(ctx, current.ID, gatepass.UserUpdate{
		PasswordHash: &checked.upgrade, UpdatedAt: now})
	if err != nil {
		return err
	}
	return s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
		Kind: gatepass.AuditPasswordRehashed, UserID: current.ID, Username: current.Name})
}
