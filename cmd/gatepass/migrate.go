package main

import (
	"context"
	"fmt"
)

// migrate applies the schema migrations; opening the store does the work.
func (m *Main) migrate(ctx context.Context, args []string) error {
	var c config
	fs := m.newFlagSet("migrate", &c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	c.finish()
	log, err := m.logger(&c)
	if err != nil {
		return err
	}

	store, err := openStore(ctx, &c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(m.Stdout, "database %s is up to date\n", displayDB(c.db))
	return nil
}
