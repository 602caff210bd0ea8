package postgres

import (
	"context"
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

	// Expired refresh tokens, found through their expires_at index. Rows are
	// picked by key rather than ctid: a concurrent update moves a row to a new
	// ctid, and the DELETE would miss it.
	if !filter.ExpiredBefore.IsZero() {
		result.RefreshTokens, err = tx.exec(ctx, `
			DELETE FROM refresh_tokens WHERE hash IN (
				SELECT hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)`,
			timeArg(filter.ExpiredBefore), limit)
		if err != nil {
			return result, formatError("prune refresh tokens", err)
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
			DELETE FROM signing_keys WHERE id IN (
				SELECT id FROM signing_keys WHERE retired_at < $1 LIMIT $2)`,
			timeArg(filter.KeysRetiredBefore), limit)
		if err != nil {
			return result, formatError("prune signing keys", err)
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
// DELETE through only for events older than the transaction's
// gatepass.audit_prune setting, so the cutoff is set just before the DELETE
// and cleared after it; both go out in the DELETE's and the COMMIT's round
// trips.
func (tx *tx) pruneAudit(ctx context.Context, before time.Time, limit any) (int, error) {
	// set_config(..., true) is SET LOCAL with a bound value. The text form is
	// truncated as timeArg truncates, since TIMESTAMPTZ would round the rest.
	cutoff := before.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	tx.tx.hold("set audit prune cutoff",
		`SELECT set_config('gatepass.audit_prune', $1, true)`, []any{cutoff})

	n, err := tx.exec(ctx, `
		DELETE FROM audit_events WHERE id IN (
			SELECT id FROM audit_events WHERE occurred_at < $1
			ORDER BY occurred_at LIMIT $2)`,
		timeArg(before), limit)
	if err != nil {
		return 0, formatError("prune audit events", err)
	}

	tx.tx.hold("clear audit prune cutoff",
		`SELECT set_config('gatepass.audit_prune', '', true)`, nil)
	return n, nil
}

// pruneSessions deletes up to limit sessions that expired or were revoked before
// the filter's times, and their refresh tokens: first the expired ones, then
// as many revoked ones as the limit leaves room for.
func (tx *tx) pruneSessions(ctx context.Context, filter gatepass.PruneFilter,
	limit any) (sessions, tokens int, err error) {
	if !filter.ExpiredBefore.IsZero() {
		sessions, tokens, err = tx.pruneSessionsBy(ctx, "expires_at", filter.ExpiredBefore,
			limit)
		if err != nil {
			return 0, 0, err
		}
	}
	if !filter.RevokedBefore.IsZero() {
		if n, ok := limit.(int); ok {
			if n -= sessions; n <= 0 {
				return sessions, tokens, nil
			}
			limit = n
		}
		s, t, err := tx.pruneSessionsBy(ctx, "revoked_at", filter.RevokedBefore, limit)
		if err != nil {
			return 0, 0, err
		}
		sessions, tokens = sessions+s, tokens+t
	}
	return sessions, tokens, nil
}

// pruneSessionsBy deletes up to limit sessions whose column (expires_at or
// revoked_at, both indexed) is before before, and their refresh tokens, in one
// statement. It deletes the tokens itself rather than through ON DELETE
// CASCADE, so that it can count them.
//
// The sessions are taken oldest first, through the column's index: each batch
// starts where the last one ended, instead of passing over the rows it deleted
// again. The selection locks the sessions it picks; one changed meanwhile by
// another transaction (un-revoked, say) is checked again and skipped if it no
// longer matches, and one being rotated is waited for.
func (tx *tx) pruneSessionsBy(ctx context.Context, column string, before time.Time,
	limit any) (sessions, tokens int, err error) {
	err = tx.tx.QueryRow(ctx, `
		WITH doomed AS (
			SELECT id FROM sessions
			WHERE `+column+` < $1
			ORDER BY `+column+` LIMIT $2
			FOR UPDATE
		), tokens AS (
			DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM doomed)
			RETURNING 1
		), sessions AS (
			DELETE FROM sessions WHERE id IN (SELECT id FROM doomed)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM tokens)`,
		timeArg(before), limit,
	).Scan(&sessions, &tokens)
	if err != nil {
		return 0, 0, formatError("prune sessions", err)
	}
	return sessions, tokens, nil
}
