package main

import (
	"context"
	"fmt"
)

// prune deletes expired and long-revoked rows once, as the server's background loop
// does periodically.
func (m *Main) prune(ctx context.Context, args []string) error {
	var c config
	svc, done, err := m.start(ctx, m.newFlagSet("prune", &c), &c, args)
	if err != nil {
		return err
	}
	defer done()

	r, err := svc.Prune(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "pruned %d sessions, %d refresh tokens, %d signing keys\n",
		r.Sessions, r.RefreshTokens, r.Keys)
	return nil
}
