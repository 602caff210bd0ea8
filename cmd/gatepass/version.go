package main

import (
	"fmt"
	"runtime"

	"github.com/gatepass/gatepass"
)

func (m *Main) version(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	fmt.Fprintf(m.Stdout, "gatepass %s (%s)\n", gatepass.Version, runtime.Version())
	return nil
}
