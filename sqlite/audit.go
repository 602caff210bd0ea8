package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gatepass/gatepass"
)

const auditColumns = `id, occurred_at, kind, user_id, username, session_id, client_ip,
	user_agent, reason, detail`

// CreateAuditEvent appends e to the audit trail and sets its ID.
func (tx *tx) CreateAuditEvent(ctx context.Context, e *gatepass.AuditEvent) error {
	if err := requireTime(e.OccurredAt, "event"); err != nil {
		return err
	} else if e.Kind == "" {
		return gatepass.Errorf(gatepass.EINVALID, "event kind is required")
	}

	res, err := tx.execContext(ctx, `
		INSERT INTO audit_events (occurred_at, kind, user_id, username, session_id,
			client_ip, user_agent, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		timeArg(e.OccurredAt), e.Kind, nullInt(e.UserID), e.Username,
		nullString(e.SessionID), e.ClientIP, e.UserAgent, e.Reason, e.Detail)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}

	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("audit event id: %w", err)
	}
	e.ID = id
	return nil
}

// FindAuditEvents lists the events filter selects, newest first; the ID breaks
// ties between events of the same microsecond, in the order they were written.
func (tx *tx) FindAuditEvents(ctx context.Context,
	filter gatepass.AuditFilter) ([]*gatepass.AuditEvent, error) {
	where := []string{"1 = 1"}
	var args []any
	if v := filter.UserID; v != nil {
		where, args = append(where, "user_id = ?"), append(args, *v)
	}
	if v := filter.Since; v != nil {
		where, args = append(where, "occurred_at >= ?"), append(args, timeArg(*v))
	}
	rows, err := tx.tx.QueryContext(ctx, `
		SELECT `+auditColumns+`
		FROM audit_events
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY occurred_at DESC, id DESC
		LIMIT ?`,
		append(args, limitArg(filter.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	defer rows.Close()

	events := []*gatepass.AuditEvent{}
	for rows.Next() {
		var e gatepass.AuditEvent
		var userID sql.NullInt64
		var sessionID sql.NullString
		if err := rows.Scan(&e.ID, timeColumn{&e.OccurredAt}, &e.Kind, &userID,
			&e.Username, &sessionID, &e.ClientIP, &e.UserAgent, &e.Reason,
			&e.Detail); err != nil {
			return nil, fmt.Errorf("scan audit event: %w", err)
		}
		e.UserID, e.SessionID = userID.Int64, sessionID.String
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
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
