package auth

import (
	"context"
	"fmt"

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
func (s *Service) Login(ctx context.Context, req LoginRequest) (*TokenPair, error) {
	scope, err := s.grantScope(req.Scope)
	if err != nil {
		return nil, err
	}
	clientID, err := s.clientID(req.Client)
	if err != nil {
		return nil, err
	}

	u, err := s.checkPassword(ctx, req)
	if err != nil {
		return nil, err
	}

	pair, err := s.startSession(ctx, u, scope, clientID, req.Client)
	if err != nil {
		return nil, err
	}
	s.Logger.Info("sign-in succeeded", attrUserID, u.ID, attrSessionID, pair.SessionID,
		attrClientIP, req.Client.IPAddress)
	return pair, nil
}

// checkPassword returns the user if the password is right and the account enabled.
// A hash in an older format or with weaker parameters is upgraded on the way.
func (s *Service) checkPassword(ctx context.Context, req LoginRequest) (*gatepass.User, error) {
	var u *gatepass.User
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		u, err = tx.FindUserByName(ctx, req.Username)
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND || req.Username == "" {
		s.hasher.VerifyDummy(ctx, req.Password)
		s.loginFailed(req.Client, 0, "unknown_user")
		return nil, gatepass.ErrInvalidCredentials
	} else if err != nil {
		return nil, err
	}

	ok, rehash, err := s.hasher.Verify(ctx, req.Password, u.PasswordHash)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.Logger.Error("stored password hash unusable", attrUserID, u.ID, attrError, err)
		return nil, gatepass.ErrInvalidCredentials
	} else if !ok {
		s.loginFailed(req.Client, u.ID, "wrong_password")
		return nil, gatepass.ErrInvalidCredentials
	} else if u.Disabled {
		s.loginFailed(req.Client, u.ID, "disabled")
		return nil, gatepass.ErrInvalidCredentials
	}

	if rehash {
		s.upgradeHash(ctx, u, req.Password)
	}
	return u, nil
}

func (s *Service) loginFailed(c Client, userID int64, reason string) {
	s.Logger.Warn("sign-in failed", attrUserID, userID, attrReason, reason,
		attrClientIP, c.IPAddress, attrUserAgent, c.UserAgent)
}

// upgradeHash re-hashes a correct password with the current parameters. A failure
// is logged and the sign-in goes on: the old hash still works.
func (s *Service) upgradeHash(ctx context.Context, u *gatepass.User, pw string) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.Update(ctx, func(tx gatepass.Tx) error {
			return tx.UpdateUser(ctx, u.ID, gatepass.UserUpdate{
				PasswordHash: &hash, UpdatedAt: s.now()})
		})
	}
	if err != nil {
		s.Logger.Error("password hash upgrade failed", attrUserID, u.ID, attrError, err)
		return
	}
	s.Logger.Info("password hash upgraded", attrUserID, u.ID)
}

// startSession creates a session and its first refresh token in one transaction.
func (s *Service) startSession(ctx context.Context, u *gatepass.User, scope, clientID string,
	c Client) (*TokenPair, error) {
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
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, rt)
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return s.pair(u, sess, scope, refresh, rt.ExpiresAt, now)
}
