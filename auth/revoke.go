package auth

import (
	"context"
	"time"

	"github.com/gatepass/gatepass"
)

// Token type hints of RFC 7009 and RFC 7662.
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// Revoke ends the session a refresh token or an access token belongs to (RFC 7009).
// Revoking a refresh token revokes its whole family, as RFC 7009 section 2.1 asks.
// Tokens that are invalid, unknown or already revoked are not an error: the caller's
// goal, a dead token, is met either way. A store failure is an error, so nobody is
// told a token is dead while it still works. The hint is not needed: an access token
// and a refresh token can never be mistaken for each other.
func (s *Service) Revoke(ctx context.Context, tok, _ string) error {
	sid := ""
	if c, err := s.VerifyAccessToken(tok); err == nil {
		sid = c.SessionID
	} else if !wellFormedRefreshToken(tok) {
		return nil
	}

	revoked := false
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		if sid == "" {
			rt, err := tx.FindRefreshToken(ctx, hashRefreshToken(tok))
			if err != nil {
				return err
			}
			sid = rt.SessionID
		}
		var err error
		revoked, err = s.revokeTx(ctx, tx, sid, gatepass.RevokeLogout, s.now())
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if revoked {
		s.noteRevoked(sid)
		s.Logger.Info("session revoked", attrSessionID, sid, attrReason, gatepass.RevokeLogout)
		s.sessionsRevoked(gatepass.RevokeLogout, 1)
	}
	return nil
}

// RevokeSession revokes one session. Revoking a revoked or unknown session is not
// an error.
func (s *Service) RevokeSession(ctx context.Context, sid, reason string) error {
	revoked := false
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		var err error
		revoked, err = s.revokeTx(ctx, tx, sid, reason, s.now())
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if revoked {
		s.noteRevoked(sid)
		s.Logger.Info("session revoked", attrSessionID, sid, attrReason, reason)
		s.sessionsRevoked(reason, 1)
	}
	return nil
}

// revokeTx revokes a session unless it already is, keeping the first revocation's
// time and reason, and reports whether it revoked it now.
func (s *Service) revokeTx(ctx context.Context, tx gatepass.Tx, sid, reason string,
	now time.Time) (bool, error) {
	sess, err := tx.LockSession(ctx, sid)
	if err != nil {
		return false, err
	} else if !sess.RevokedAt.IsZero() {
		return false, nil
	}
	err = tx.UpdateSession(ctx, sid, gatepass.SessionUpdate{
		RevokedAt: &now, RevokeReason: &reason})
	if err != nil {
		return false, err
	}
	return true, s.recordRevoked(ctx, tx, sess, reason, now)
}

// RevokeUserSessions revokes every session of a user except keep (which may be "")
// and returns how many it revoked.
func (s *Service) RevokeUserSessions(ctx context.Context, userID int64, keep,
	reason string) (int, error) {
	var n int
	var ids []string
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		now := s.now()
		var err error
		n, err = s.revokeSessionsTx(ctx, tx, userID, keep, now, reason)
		if err != nil || n == 0 {
			return err
		}
		ids, err = s.revokedTx(ctx, tx, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.noteRevoked(ids...)
	s.Logger.Info("sessions revoked", attrUserID, userID, attrReason, reason, attrCount, n)
	s.sessionsRevoked(reason, n)
	return n, nil
}
