package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

const auditColumns = `id, occurred_at, kind, user_id, username, session_id, client_ip,
	user_agent, reason, detail`

// CreateAuditEvent appends e to the audit trail. Nothing waits for the
// insert: it goes out with the transaction's next statement or its COMMIT,
// which set e.ID or return its error.
func (tx *tx) CreateAuditEvent(ctx context.Context, e *gatepass.AuditEvent) error {
	if err := requireTime(e.OccurredAt, "event"); err != nil {
		return err
	} else if e.Kind == "" {
		return gatepass.Errorf(gatepass.EINVALID, "event kind is required")
	}

	tx.tx.hold("insert audit event", `
		INSERT INTO audit_events (occurred_at, kind, user_id, username, session_id,
			client_ip, user_agent, reason, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`,
		[]any{timeArg(e.OccurredAt), e.Kind, nullInt(e.UserID), e.Username,
			nullString(e.SessionID), e.ClientIP, e.UserAgent, e.Reason, e.Detail},
		&e.ID)
	return nil
}

// FindAuditEvents lists the events filter selects, newest first. The ID breaks
// ties between events of the same microsecond: identity values are handed out
// as rows are inserted, so it follows the order events were written in, across
// instances only roughly.
func (tx *tx) FindAuditEvents(ctx context.Context,
	filter gatepass.AuditFilter) ([]*gatepass.AuditEvent, error) {
	where := []string{"true"}
	args := pgx.NamedArgs{"limit": limitArg(filter.Limit)}
	if v := filter.UserID; v != nil {
		where, args["user_id"] = append(where, "user_id = @user_id"), *v
	}
	if v := filter.Since; v != nil {
		where, args["since"] = append(where, "occurred_at >= @since"), timeArg(*v)
	}
	rows, err := tx.tx.Query(ctx, `
		SELECT `+auditColumns+`
		FROM audit_events
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY occurred_at DESC, id DESC
		LIMIT @limit`,
		args)
	if err != nil {
		return nil, formatError("query audit events", err)
	}
	defer rows.Close()

	events := []*gatepass.AuditEvent{}
	for rows.Next() {
		var e gatepass.AuditEvent
		var userID *int64
		var sessionID *string
		if err := rows.Scan(&e.ID, timeColumn{&e.OccurredAt}, &e.Kind, &userID,
			&e.Username, &sessionID, &e.ClientIP, &e.UserAgent, &e.Reason,
			&e.Detail); err != nil {
			return nil, formatError("scan audit event", err)
		}
		if userID != nil {
			e.UserID = *userID
		}
		if sessionID != nil {
			e.SessionID = *sessionID
		}
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError("query audit events", err)
	}
	return events, nil
}

// nullInt returns id, or NULL for 0, which no stored row uses as an ID.
func nullInt(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullString returns s, or NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
