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
// goal, a dead token, is met either way.
func (s *Service) Revoke(ctx context.Context, tok, hint string) error {
	sid := s.sessionOf(ctx, tok, hint)
	if sid == "" {
		return nil
	}
	return s.RevokeSession(ctx, sid, gatepass.RevokeLogout)
}

// sessionOf returns the session a token belongs to, or "" if it is not ours. The
// hint only decides which kind is tried first.
func (s *Service) sessionOf(ctx context.Context, tok, hint string) string {
	tries := []func(context.Context, string) string{s.refreshSession, s.accessSession}
	if hint == HintAccessToken {
		tries[0], tries[1] = tries[1], tries[0]
	}
	for _, try := range tries {
		if sid := try(ctx, tok); sid != "" {
			return sid
		}
	}
	return ""
}

func (s *Service) refreshSession(ctx context.Context, tok string) string {
	if !wellFormedRefreshToken(tok) {
		return ""
	}
	var sid string
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		rt, err := tx.FindRefreshToken(ctx, hashRefreshToken(tok))
		if err == nil {
			sid = rt.SessionID
		}
		return err
	})
	if err != nil && gatepass.ErrorCode(err) != gatepass.ENOTFOUND && ctx.Err() == nil {
		s.Logger.Error("find refresh token", attrError, err)
	}
	return sid
}

func (s *Service) accessSession(_ context.Context, tok string) string {
	c, err := s.VerifyAccessToken(tok)
	if err != nil {
		return ""
	}
	return c.SessionID
}

// RevokeSession revokes one session. Revoking a revoked or unknown session is not
// an error.
func (s *Service) RevokeSession(ctx context.Context, sid, reason string) error {
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		return s.revokeTx(ctx, tx, sid, reason, s.now())
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	s.Logger.Info("session revoked", attrSessionID, sid, attrReason, reason)
	return nil
}

// revokeTx revokes a session unless it already is, keeping the first revocation's
// time and reason.
func (s *Service) revokeTx(ctx context.Context, tx gatepass.Tx, sid, reason string,
	now time.Time) error {
	sess, err := tx.LockSession(ctx, sid)
	if err != nil {
		return err
	} else if !sess.RevokedAt.IsZero() {
		return nil
	}
	return tx.UpdateSession(ctx, sid, gatepass.SessionUpdate{
		RevokedAt: &now, RevokeReason: &reason})
}

// RevokeUserSessions revokes every session of a user except keep (which may be "")
// and returns how many it revoked.
func (s *Service) RevokeUserSessions(ctx context.Context, userID int64, keep,
	reason string) (int, error) {
	var n int
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		var err error
		n, err = tx.RevokeSessions(ctx, userID, keep, s.now(), reason)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.Logger.Info("sessions revoked", attrUserID, userID, attrReason, reason, "count", n)
	return n, nil
}
