package main_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	main "github.com/gatepass/gatepass/cmd/gatepass"
)

// Run runs the program in-process with env as its whole environment and stdin as
// its input, and returns what it printed.
type Run struct {
	Stdout, Stderr string
	Err            error
}

// Program runs gatepass commands against one database file.
type Program struct {
	DB  string
	Env map[string]string
}

// NewProgram returns a Program on a fresh database in a temporary directory.
func NewProgram(tb testing.TB) *Program {
	tb.Helper()
	return &Program{DB: filepath.Join(tb.TempDir(), "gatepass.db"), Env: map[string]string{}}
}

// NewMain returns a Main that reads stdin and the program's environment.
func (p *Program) NewMain(stdin string, stdout, stderr *bytes.Buffer) *main.Main {
	m := main.NewMain()
	m.Stdin = strings.NewReader(stdin)
	m.Stdout, m.Stderr = stdout, stderr
	m.Getenv = func(k string) string {
		if k == "GATEPASS_DB" {
			return p.DB
		}
		return p.Env[k]
	}
	return m
}

// Run runs one command to completion.
func (p *Program) Run(stdin string, args ...string) Run {
	var stdout, stderr bytes.Buffer
	err := p.NewMain(stdin, &stdout, &stderr).Run(context.Background(), args)
	return Run{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// MustRun runs a command that must succeed.
func (p *Program) MustRun(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	r := p.Run(stdin, args...)
	if r.Err != nil {
		tb.Fatalf("gatepass %s: %v\nstderr: %s", strings.Join(args, " "), r.Err, r.Stderr)
	}
	return r.Stdout
}
