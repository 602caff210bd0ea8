package auth

import (
	"context"
	"time"

	"github.com/gatepass/gatepass"
)

// RefreshRequest trades a refresh token for a new pair.
type RefreshRequest struct {
	RefreshToken string

	// Scope optionally narrows the new access token's scope (RFC 6749 section 6);
	// the session keeps its own scope.
	Scope  string
	Client Client
}

// rotation is the outcome of the rotation transaction.
type rotation struct {
	now     time.Time
	user    *gatepass.User
	session *gatepass.Session
	scope   string
	refresh string
	expires time.Time

	// replayed is set when a rotated token came back inside the reuse interval.
	replayed bool
	// reused is set when a rotated token came back after the interval: the session
	// was revoked and the caller gets ErrInvalidGrant.
	reused bool
}

// RefreshError is Refresh's refusal of a refresh token. It wraps
// gatepass.ErrInvalidGrant, which is all an OAuth client is told, so that a
// thief learns nothing from the answer; Reason is for front ends that must say
// more, as simplejwt's does, and for the log.
type RefreshError struct {
	// Reason is one of the Refused constants.
	Reason string
}

// Why Refresh refused a refresh token.
const (
	RefusedMalformed      = "malformed_token"
	RefusedUnknown        = "unknown_token"
	RefusedTokenExpired   = "token_expired"
	RefusedSessionExpired = "session_expired"
	RefusedSessionRevoked = "session_revoked"
	RefusedUserDisabled   = "user_disabled"
	RefusedClientMismatch = "client_mismatch"

	// RefusedReused: a rotated token came back after the reuse interval, and its
	// session has been revoked for it.
	RefusedReused = "reused"

	// RefusedNoCurrentToken: a rotated token came back inside the reuse interval,
	// but its session's current token could not be found.
	RefusedNoCurrentToken = "no_current_token"
)

// Error implements error, with the message of gatepass.ErrInvalidGrant.
func (e *RefreshError) Error() string {
	return gatepass.ErrInvalidGrant.Error()
}

// Unwrap returns gatepass.ErrInvalidGrant.
func (e *RefreshError) Unwrap() error {
	return gatepass.ErrInvalidGrant
}

// refused returns the refusal for reason; returned from the rotation
// transaction, it also ends it without writes.
func refused(reason string) error {
	return &RefreshError{Reason: reason}
}

// Refresh rotates a refresh token (RFC 9700 section 4.14.2). The presented token is
// marked used and its successor issued, with a fresh refresh lifetime bounded by the
// session's absolute end. A used token presented again inside the reuse interval
// gets the session's current token back; after the interval it is treated as theft:
// the whole session is revoked. All of it happens in one transaction.
func (s *Service) Refresh(ctx context.Context, req RefreshRequest) (*TokenPair, error) {
	ip := addressKey(req.Client.IPAddress)
	if err := s.limit(ctx, s.RefreshLimiter, req.Client, "refresh:ip:", ip); err != nil {
		return nil, s.refreshFailed(err)
	}
	if !wellFormedRefreshToken(req.RefreshToken) {
		s.refreshRejected(req.Client, nil, RefusedMalformed)
		return nil, s.refreshFailed(refused(RefusedMalformed))
	}

	var r *rotation
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		var err error
		r, err = s.rotateTx(ctx, tx, req)
		return err
	})
	if err != nil {
		return nil, s.refreshFailed(err)
	}

	if r.reused {
		s.Logger.Warn("refresh token reuse detected, session revoked",
			attrSessionID, r.session.ID, attrUserID, r.session.UserID,
			attrClientIP, req.Client.IPAddress, attrUserAgent, req.Client.UserAgent)
		s.noteRevoked(r.session.ID)
		s.observer().ReuseDetected()
		s.sessionsRevoked(gatepass.RevokeReuse, 1)
		s.observer().Refresh(OutcomeReuse)
		return nil, refused(RefusedReused)
	} else if r.replayed {
		s.Logger.Info("rotated refresh token replayed inside reuse interval",
			attrSessionID, r.session.ID, attrUserID, r.session.UserID)
		s.observer().Refresh(OutcomeReplay)
	} else {
		s.Logger.Info("refresh token rotated", attrSessionID, r.session.ID,
			attrUserID, r.session.UserID)
		s.observer().Refresh(OutcomeSuccess)
	}
	return s.pair(r.user, r.session, r.scope, r.refresh, r.expires, r.now)
}

// refreshFailed tells the Observer how a refresh failed and returns err.
func (s *Service) refreshFailed(err error) error {
	s.observer().Refresh(failureOutcome(err, OutcomeInvalid))
	return err
}

// rotateTx is the rotation transaction. It returns a *RefreshError (and writes
// nothing) for tokens that are unknown, expired, or belong to a dead session.
// Reuse is judged before anything else about the request, so no parameter a thief
// adds can test a stolen token without setting off the detection.
func (s *Service) rotateTx(ctx context.Context, tx gatepass.Tx,
	req RefreshRequest) (*rotation, error) {
	now := s.now()
	rt, sess, u, err := s.findRefreshable(ctx, tx, req, now)
	if err != nil {
		return nil, err
	}

	r := &rotation{now: now, user: u, session: sess, scope: sess.Scope}
	replay := !rt.UsedAt.IsZero()
	if replay && now.Sub(rt.UsedAt) > s.cfg.ReuseInterval {
		r.reused = true
		return r, s.reuseDetectedTx(ctx, tx, req.Client, sess, now)
	}

	// RFC 6749 section 6: a refresh token works only for the client it was issued
	// to. Public clients cannot prove who they are, but one that names another
	// client is refused without touching the token.
	if req.Client.ID != "" && req.Client.ID != sess.ClientID {
		s.refreshRejected(req.Client, sess, RefusedClientMismatch)
		return nil, refused(RefusedClientMismatch)
	}
	if req.Scope != "" {
		if r.scope, err = narrowScope(req.Scope, sess.Scopes()); err != nil {
			return nil, err
		}
	}

	if replay {
		r.replayed = true
		r.refresh, r.expires, err = s.currentToken(ctx, tx, req.RefreshToken)
	} else {
		r.refresh, r.expires, err = s.rotateOnce(ctx, tx, rt, sess, req.RefreshToken, now)
	}
	if err != nil {
		return nil, err
	}

	// A rotation has already touched the session; a replay is a use of it too.
	if replay {
		if err := tx.UpdateSession(ctx, sess.ID,
			gatepass.SessionUpdate{LastUsedAt: &now}); err != nil {
			return nil, err
		}
	}
	return r, s.recordRefresh(ctx, tx, req.Client, r)
}

// findRefreshable loads a refresh token with its session (locked) and user, and
// rejects it unless all three are alive.
func (s *Service) findRefreshable(ctx context.Context, tx gatepass.Tx, req RefreshRequest,
	now time.Time) (*gatepass.RefreshToken, *gatepass.Session, *gatepass.User, error) {
	// The session is locked, and the token read once the lock is held: a
	// rotation that committed while this one waited is seen, so the replay path
	// is taken.
	rt, sess, u, err := tx.LockRefreshToken(ctx, hashRefreshToken(req.RefreshToken))
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		s.refreshRejected(req.Client, nil, RefusedUnknown)
		return nil, nil, nil, refused(RefusedUnknown)
	} else if err != nil {
		return nil, nil, nil, err
	}

	reason := ""
	switch {
	case !sess.RevokedAt.IsZero():
		reason = RefusedSessionRevoked
	case !now.Before(sess.ExpiresAt):
		reason = RefusedSessionExpired
	case !now.Before(rt.ExpiresAt):
		reason = RefusedTokenExpired
	case u.Disabled:
		reason = RefusedUserDisabled
	}
	if reason != "" {
		s.refreshRejected(req.Client, sess, reason)
		return nil, nil, nil, refused(reason)
	}
	return rt, sess, u, nil
}

// refreshRejected logs a refused refresh token with who presented it. It logs
// at Info: clients holding a token of a session that ended are routine, and
// whoever sends made-up tokens controls how many lines there are. A reuse, the
// sign of a stolen token, is logged at Warn elsewhere.
func (s *Service) refreshRejected(c Client, sess *gatepass.Session, reason string) {
	attrs := []any{attrReason, reason, attrClientIP, c.IPAddress, attrUserAgent, c.UserAgent}
	if sess != nil {
		attrs = append(attrs, attrSessionID, sess.ID, attrUserID, sess.UserID)
	}
	s.Logger.Info("refresh rejected", attrs...)
}

// rotateOnce marks rt used, stores its derived successor and touches the
// session, in one call to the store.
func (s *Service) rotateOnce(ctx context.Context, tx gatepass.Tx, rt *gatepass.RefreshToken,
	sess *gatepass.Session, tok string, now time.Time) (string, time.Time, error) {
	next := successor(s.refreshSecret, tok)
	succ := &gatepass.RefreshToken{
		Hash:       hashRefreshToken(next),
		SessionID:  sess.ID,
		Generation: rt.Generation + 1,
		CreatedAt:  now,
		ExpiresAt:  minTime(now.Add(s.cfg.RefreshTTL), sess.ExpiresAt),
	}
	if err := tx.RotateRefreshToken(ctx, rt.Hash, succ); err != nil {
		return "", time.Time{}, err
	}
	return next, succ.ExpiresAt, nil
}

// currentToken follows a replayed token's successors to the session's current,
// unused token, so every racing client converges on one chain instead of forking it.
func (s *Service) currentToken(ctx context.Context, tx gatepass.Tx,
	tok string) (string, time.Time, error) {
	for range maxReplayWalk {
		tok = successor(s.refreshSecret, tok)
		rt, err := tx.FindRefreshToken(ctx, hashRefreshToken(tok))
		if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
			return "", time.Time{}, refused(RefusedNoCurrentToken)
		} else if err != nil {
			return "", time.Time{}, err
		}
		if rt.UsedAt.IsZero() {
			return tok, rt.ExpiresAt, nil
		}
	}
	return "", time.Time{}, refused(RefusedNoCurrentToken)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
