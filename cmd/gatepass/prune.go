package main

import (
	"context"
	"fmt"
)

// prune deletes expired and long-revoked rows and old audit events once, as the
// server's background loop does periodically.
func (m *Main) prune(ctx context.Context, args []string) error {
	var c config
	svc, done, err := m.start(ctx, m.newFlagSet("prune", &c), &c, args)
	if err != nil {
		return err
	}
	defer done()

	// What was deleted is reported even when a later part failed: audit events
	// go last, and a role that may not delete them fails only that part.
	r, err := svc.Prune(ctx)
	fmt.Fprintf(m.Stdout,
		"pruned %d sessions, %d refresh tokens, %d signing keys, %d audit events\n",
		r.Sessions, r.RefreshTokens, r.Keys, r.AuditEvents)
	return err
}
