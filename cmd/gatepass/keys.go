package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

func (m *Main) keys(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "list") {
		return fmt.Errorf("%w: usage: gatepass keys rotate|list", errUsage)
	}

	var c config
	fs := m.newFlagSet("keys "+args[0], &c)
	svc, done, err := m.start(ctx, fs, &c, args[1:])
	if err != nil {
		return err
	}
	defer done()

	if args[0] == "rotate" {
		// Keep the current key's algorithm unless one is asked for explicitly.
		alg := ""
		if m.flagGiven(fs, "alg") {
			alg = c.auth.Algorithm
		}
		k, err := svc.RotateKeys(ctx, alg)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "new current key %s (%s); running servers pick it up "+
			"within their --key-reload-interval\n", k.ID, k.Algorithm)
		return nil
	}

	keys, err := svc.FindKeys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALG\tSTATUS\tCREATED\tPUBLISHED UNTIL")
	for _, k := range keys {
		status, until := "current", "-"
		if !k.RetiredAt.IsZero() {
			status, until = "retired", k.PublishedUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, status,
			k.CreatedAt.Format(time.RFC3339), until)
	}
	return w.Flush()
}
