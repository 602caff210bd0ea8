package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
)

// FindSessionsRevokedSince lists the sessions revoked at or after since, oldest
// revocation first. The partial index sessions_revoked_at_idx serves it, so it
// reads only the rows it returns. Returns EINVALID for a zero since.
func (tx *tx) FindSessionsRevokedSince(ctx context.Context,
	since time.Time) ([]gatepass.RevokedSession, error) {
	if err := requireTime(since, "since"); err != nil {
		return nil, err
	}

	rows, err := tx.tx.QueryContext(ctx, `
		SELECT id, revoked_at
		FROM sessions
		WHERE revoked_at >= ?
		ORDER BY revoked_at, id`,
		timeArg(since))
	if err != nil {
		return nil, fmt.Errorf("query revoked sessions: %w", err)
	}
	defer rows.Close()

	revoked := []gatepass.RevokedSession{}
	for rows.Next() {
		var r gatepass.RevokedSession
		if err := rows.Scan(&r.ID, timeColumn{&r.RevokedAt}); err != nil {
			return nil, fmt.Errorf("scan revoked session: %w", err)
		}
		revoked = append(revoked, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query revoked sessions: %w", err)
	}
	return revoked, nil
}
