package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

// Prune deletes expired refresh tokens, expired or long-revoked sessions with all
// their refresh tokens, long-retired signing keys and old audit events. A zero time
// in filter turns its rule off. Limit caps the rows each rule deletes: expired
// tokens, sessions, keys and events; the tokens of a deleted session go with it
// whatever their number.
//
// PruneResult.RefreshTokens counts every token deleted: the expired ones and those
// of the deleted sessions.
func (tx *tx) Prune(ctx context.Context,
	filter gatepass.PruneFilter) (gatepass.PruneResult, error) {
	var result gatepass.PruneResult
	var err error
	limit := limitArg(filter.Limit)

	// Expired refresh tokens, found through their expires_at index.
	if !filter.ExpiredBefore.IsZero() {
		result.RefreshTokens, err = tx.exec(ctx, `
			DELETE FROM refresh_tokens WHERE rowid IN (
				SELECT rowid FROM refresh_tokens WHERE expires_at < ? LIMIT ?)`,
			timeArg(filter.ExpiredBefore), limit)
		if err != nil {
			return result, fmt.Errorf("prune refresh tokens: %w", err)
		}
	}

	// Expired or long-revoked sessions, with their refresh tokens.
	sessions, tokens, err := tx.pruneSessions(ctx, filter, limit)
	if err != nil {
		return result, err
	}
	result.Sessions, result.RefreshTokens = sessions, result.RefreshTokens+tokens

	// Keys retired long ago; the current key has no retired_at and always stays.
	if !filter.KeysRetiredBefore.IsZero() {
		result.Keys, err = tx.exec(ctx, `
			DELETE FROM signing_keys WHERE rowid IN (
				SELECT rowid FROM signing_keys WHERE retired_at < ? LIMIT ?)`,
			timeArg(filter.KeysRetiredBefore), limit)
		if err != nil {
			return result, fmt.Errorf("prune signing keys: %w", err)
		}
	}

	// Audit events older than the retention.
	if !filter.AuditBefore.IsZero() {
		result.AuditEvents, err = tx.pruneAudit(ctx, filter.AuditBefore, limit)
		if err != nil {
			return result, err
		}
	}
	return result, nil
}

// pruneAudit deletes up to limit audit events that occurred before before,
// oldest first through the occurred_at index. The append-only trigger lets a
// DELETE through only for events older than the row of audit_prune_cutoff, so
// the row is written first and removed again before the transaction can
// commit.
func (tx *tx) pruneAudit(ctx context.Context, before time.Time, limit int) (int, error) {
	if _, err := tx.exec(ctx, `
		INSERT INTO audit_prune_cutoff (id, occurred_before) VALUES (1, ?)`,
		timeArg(before)); err != nil {
		return 0, fmt.Errorf("set audit prune cutoff: %w", err)
	}

	n, err := tx.exec(ctx, `
		DELETE FROM audit_events WHERE id IN (
			SELECT id FROM audit_events WHERE occurred_at < ?
			ORDER BY occurred_at LIMIT ?)`,
		timeArg(before), limit)
	if err != nil {
		return 0, fmt.Errorf("prune audit events: %w", err)
	}

	if _, err := tx.exec(ctx, `DELETE FROM audit_prune_cutoff`); err != nil {
		return 0, fmt.Errorf("clear audit prune cutoff: %w", err)
	}
	return n, nil
}

// pruneSessions deletes up to limit sessions that expired or were revoked before
// the filter's times, and their refresh tokens. It deletes the tokens itself
// rather than through ON DELETE CASCADE, so that it can count them.
func (tx *tx) pruneSessions(ctx context.Context, filter gatepass.PruneFilter,
	limit int) (sessions, tokens int, err error) {
	var or []string
	var args []any
	if !filter.ExpiredBefore.IsZero() {
		or, args = append(or, "expires_at < ?"), append(args, timeArg(filter.ExpiredBefore))
	}
	if !filter.RevokedBefore.IsZero() {
		or, args = append(or, "revoked_at < ?"), append(args, timeArg(filter.RevokedBefore))
	}
	if len(or) == 0 {
		return 0, 0, nil
	}

	// Both statements run this selection in one transaction; ORDER BY makes it pick
	// the same sessions both times.
	selected := `SELECT rowid FROM sessions
		WHERE ` + strings.Join(or, " OR ") + `
		ORDER BY rowid LIMIT ?`
	args = append(args, limit)

	tokens, err = tx.exec(ctx, `
		DELETE FROM refresh_tokens WHERE session_id IN (
			SELECT id FROM sessions WHERE rowid IN (`+selected+`))`,
		args...)
	if err != nil {
		return 0, 0, fmt.Errorf("prune refresh tokens of sessions: %w", err)
	}
	sessions, err = tx.exec(ctx, `DELETE FROM sessions WHERE rowid IN (`+selected+`)`, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("prune sessions: %w", err)
	}
	return sessions, tokens, nil
}

// exec runs a statement and returns the number of rows it changed.
func (tx *tx) exec(ctx context.Context, query string, args ...any) (int, error) {
	res, err := tx.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return rowsAffected(res)
}
