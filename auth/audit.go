package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
)

// attrKind is the log attribute naming an audit event's kind.
const attrKind = "kind"

// auditWriteTimeout bounds the write of an event recorded on its own (a failed
// sign-in), which goes on after its request was canceled.
const auditWriteTimeout = 5 * time.Second

// Reasons of audit events, besides the gatepass Revoke reasons.
const (
	reasonUnknownUser    = "unknown_user"
	reasonWrongPassword  = "wrong_password"
	reasonDisabled       = "disabled"
	reasonUnusableHash   = "unusable_hash"
	reasonAccountChanged = "account_changed"
	reasonReplay         = "replay"
	reasonAlgorithm      = "algorithm_changed"
)

// clientKey is the context key of the calling Client.
type clientKey struct{}

// NewContextWithClient returns a copy of ctx carrying the calling client. The
// HTTP layer sets it on every request so that calls without a Client argument,
// such as Revoke or Logout, still record the caller's address and user agent in
// the audit trail.
func NewContextWithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFromContext returns the client stored in ctx, or the zero Client.
func ClientFromContext(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// FindAuditEvents lists the audit events filter selects, newest first.
func (s *Service) FindAuditEvents(ctx context.Context,
	filter gatepass.AuditFilter) ([]*gatepass.AuditEvent, error) {
	var events []*gatepass.AuditEvent
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		events, err = tx.FindAuditEvents(ctx, filter)
		return err
	})
	return events, err
}

// record writes e in tx, the transaction of the change it describes, so that
// the two commit or vanish together. It fills in the caller, from c or else
// from ctx, and the user's name when e has only the ID.
func (s *Service) record(ctx context.Context, tx gatepass.Tx, c Client,
	e *gatepass.AuditEvent) error {
	if c == (Client{}) {
		c = ClientFromContext(ctx)
	}
	e.ClientIP, e.UserAgent = truncate(c.IPAddress, 64), truncate(c.UserAgent, 512)
	e.Username = truncate(e.Username, 64)

	if e.UserID != 0 && e.Username == "" {
		u, err := tx.FindUserByID(ctx, e.UserID)
		if err != nil {
			return fmt.Errorf("audit event user: %w", err)
		}
		e.Username = u.Name
	}
	if err := tx.CreateAuditEvent(ctx, e); err != nil {
		return fmt.Errorf("record %s: %w", e.Kind, err)
	}
	return nil
}

// recordAlone writes e in a short transaction of its own, for an attempt that
// changed nothing else: a failed sign-in. A client that hangs up does not
// cancel it, so that giving up on the answer erases no attempt. A failure is
// logged, not returned: the attempt has failed already.
//
// Every failed sign-in costs a write. The sign-in rate limits and the bounded
// password-hashing slots cap how fast a flood of them can fill the table; with
// --rate-limit off only the hashing slots do.
func (s *Service) recordAlone(ctx context.Context, c Client, e *gatepass.AuditEvent) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()

	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		return s.record(ctx, tx, c, e)
	})
	if err != nil {
		s.Logger.Error("audit event not recorded", attrKind, e.Kind, attrError, err)
	}
}

// recordRevoked records the revocation of one session.
func (s *Service) recordRevoked(ctx context.Context, tx gatepass.Tx,
	sess *gatepass.Session, reason string, now time.Time) error {
	return s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
		Kind: gatepass.AuditSessionRevoked, UserID: sess.UserID, SessionID: sess.ID,
		Reason: reason})
}

// revokeSessionsTx revokes every unrevoked session of a user except the one
// named by except, as tx.RevokeSessions does, and records one event for each.
// The sessions it revoked are those it did not find revoked before and finds
// revoked after, at this transaction's time and for this reason. If their
// count disagrees with the revocation's, the transaction fails rather than
// leave a revocation out of the trail.
func (s *Service) revokeSessionsTx(ctx context.Context, tx gatepass.Tx, userID int64,
	except string, now time.Time, reason string) (int, error) {
	filter := gatepass.SessionFilter{UserID: &userID}
	before, err := tx.FindSessions(ctx, filter)
	if err != nil {
		return 0, err
	}
	revokedBefore := map[string]bool{}
	for _, sess := range before {
		revokedBefore[sess.ID] = !sess.RevokedAt.IsZero()
	}

	n, err := tx.RevokeSessions(ctx, userID, except, now, reason)
	if err != nil || n == 0 {
		return n, err
	}
	after, err := tx.FindSessions(ctx, filter)
	if err != nil {
		return 0, err
	}
	u, err := tx.FindUserByID(ctx, userID)
	if err != nil {
		return 0, err
	}
	recorded := 0
	for _, sess := range after {
		if sess.ID == except || revokedBefore[sess.ID] || !sess.RevokedAt.Equal(now) ||
			sess.RevokeReason != reason {
			continue
		}
		e := &gatepass.AuditEvent{OccurredAt: now, Kind: gatepass.AuditSessionRevoked,
			UserID: u.ID, Username: u.Name, SessionID: sess.ID, Reason: reason}
		if err := s.record(ctx, tx, Client{}, e); err != nil {
			return 0, err
		}
		recorded++
	}
	if recorded != n {
		return 0, fmt.Errorf("revoked %d sessions, found %d to record", n, recorded)
	}
	return n, nil
}

// recordRefresh records a rotation, or a replay inside the reuse interval.
func (s *Service) recordRefresh(ctx context.Context, tx gatepass.Tx, c Client,
	r *rotation) error {
	reason := ""
	if r.replayed {
		reason = reasonReplay
	}
	return s.record(ctx, tx, c, &gatepass.AuditEvent{OccurredAt: r.now,
		Kind: gatepass.AuditRefresh, UserID: r.user.ID, Username: r.user.Name,
		SessionID: r.session.ID, Reason: reason})
}

// reuseDetectedTx records a rotated refresh token presented after the reuse
// interval and revokes its session, both in tx and both naming who presented
// it.
func (s *Service) reuseDetectedTx(ctx context.Context, tx gatepass.Tx, c Client,
	sess *gatepass.Session, now time.Time) error {
	if c != (Client{}) {
		ctx = NewContextWithClient(ctx, c)
	}
	err := s.record(ctx, tx, c, &gatepass.AuditEvent{OccurredAt: now,
		Kind: gatepass.AuditReuseDetected, UserID: sess.UserID, SessionID: sess.ID,
		Reason: gatepass.RevokeReuse})
	if err != nil {
		return err
	}
	_, err = s.revokeTx(ctx, tx, sess.ID, gatepass.RevokeReuse, now)
	return err
}
