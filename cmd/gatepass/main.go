// Command gatepass runs the gatepass token service and its admin commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gatepass:", err)
		}
		stop()
		os.Exit(exitCode(err))
	}
}

// Main is the program: tests run it in-process with their own input, output and
// environment.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Getenv reads configuration from the environment.
	Getenv func(string) string

	// OnListen, if set, is called with the address the server listens on.
	OnListen func(addr string)
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

const usage = `gatepass: sign in once, stay signed in with rotating tokens.

Usage:
  gatepass serve   [flags]                  run the token service
  gatepass user add NAME [--email E] --password-stdin
  gatepass user passwd NAME --password-stdin
  gatepass user disable|enable NAME
  gatepass user list
  gatepass user import [--format django|bcrypt|csv] FILE
  gatepass keys rotate | list               manage signing keys
  gatepass migrate                          apply database migrations
  gatepass prune                            delete expired sessions and tokens
  gatepass audit [--user NAME] [--since 24h] [--limit N] [--json]
                                            show the audit trail
  gatepass version

Every flag can also be set with an environment variable: --access-ttl is
GATEPASS_ACCESS_TTL. Flags win over the environment.
Run "gatepass COMMAND -h" for a command's flags.
`

// Run executes the command named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errUsage
	}

	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "user":
		return m.user(ctx, rest)
	case "keys":
		return m.keys(ctx, rest)
	case "migrate":
		return m.migrate(ctx, rest)
	case "prune":
		return m.prune(ctx, rest)
	case "audit":
		return m.audit(ctx, rest)
	case "version":
		return m.version(rest)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// errUsage reports a command line that could not be understood.
var errUsage = errors.New("usage error")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}
