package main_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	p := NewProgram(t)

	out := p.MustRun(t, "correct-horse\n", "user", "add", "alice", "--email",
		"alice@example.com", "--password-stdin")
	if !strings.Contains(out, "created user alice") {
		t.Errorf("user add printed %q", out)
	}
	p.MustRun(t, "battery-staple\n", "user", "add", "bob", "--password-stdin")

	if r := p.Run("another-pass\n", "user", "add", "alice", "--password-stdin"); r.Err == nil ||
		!strings.Contains(r.Err.Error(), "taken") {
		t.Errorf("adding a taken name: err = %v, want one saying it is taken", r.Err)
	}
	if r := p.Run("short\n", "user", "add", "carol", "--password-stdin"); r.Err == nil ||
		!strings.Contains(r.Err.Error(), "at least 8") {
		t.Errorf("short password: err = %v, want the length rule", r.Err)
	}
	if r := p.Run("", "user", "add", "carol"); r.Err == nil ||
		!strings.Contains(r.Err.Error(), "--password-stdin") {
		t.Errorf("no --password-stdin: err = %v, want a hint to use it", r.Err)
	}

	p.MustRun(t, "", "user", "disable", "bob")
	list := p.MustRun(t, "", "user", "list")
	rows := strings.Split(strings.TrimSpace(list), "\n")
	if len(rows) != 3 {
		t.Fatalf("user list has %d rows, want a header and 2 users:\n%s", len(rows), list)
	}
	alice := regexp.MustCompile(`^1\s+alice\s+alice@example\.com\s+active\s`)
	bob := regexp.MustCompile(`^2\s+bob\s+disabled\s`)
	if !alice.MatchString(rows[1]) || !bob.MatchString(rows[2]) {
		t.Errorf("user list rows:\n%s", list)
	}

	p.MustRun(t, "new-password-1\n", "user", "passwd", "alice", "--password-stdin")
	if r := p.Run("new-password-1\n", "user", "passwd", "nobody", "--password-stdin"); r.Err ==
		nil || !strings.Contains(r.Err.Error(), "not found") {
		t.Errorf("passwd for an unknown user: err = %v", r.Err)
	}
	if strings.Contains(list, "correct-horse") || strings.Contains(list, "argon2") {
		t.Error("user list shows a password or hash")
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_ACCESS_TTL"] = "soon"
	r := p.Run("", "user", "list")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "GATEPASS_ACCESS_TTL") {
		t.Errorf("bad environment value: err = %v, want it named", r.Err)
	}

	// A flag on the command line wins over the environment.
	p.MustRun(t, "", "user", "list", "--access-ttl", "10m")

	p.Env["GATEPASS_ACCESS_TTL"] = "500ms"
	r = p.Run("", "user", "list")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "access-ttl") {
		t.Errorf("too short access ttl: err = %v, want the field named", r.Err)
	}
}

func TestKeysCommands(t *testing.T) {
	p := NewProgram(t)
	list := p.MustRun(t, "", "keys", "list")
	if n := strings.Count(list, "current"); n != 1 || !strings.Contains(list, "ES256") {
		t.Fatalf("fresh keys list:\n%s", list)
	}

	out := p.MustRun(t, "", "keys", "rotate", "--alg", "EdDSA")
	if !strings.Contains(out, "EdDSA") {
		t.Errorf("keys rotate printed %q", out)
	}
	list = p.MustRun(t, "", "keys", "list")
	rows := strings.Split(strings.TrimSpace(list), "\n")
	if len(rows) != 3 || !strings.Contains(rows[1], "retired") ||
		!strings.Contains(rows[2], "current") || !strings.Contains(rows[2], "EdDSA") {
		t.Errorf("keys list after rotation:\n%s", list)
	}

	// Without --alg a rotation keeps the current algorithm, not the default.
	p.MustRun(t, "", "keys", "rotate")
	list = p.MustRun(t, "", "keys", "list")
	rows = strings.Split(strings.TrimSpace(list), "\n")
	if len(rows) != 4 || !strings.Contains(rows[3], "current") ||
		!strings.Contains(rows[3], "EdDSA") {
		t.Errorf("keys list after a rotation without --alg:\n%s", list)
	}
}

func TestMigratePruneVersion(t *testing.T) {
	p := NewProgram(t)
	if out := p.MustRun(t, "", "migrate"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate printed %q", out)
	}
	p.MustRun(t, "", "migrate")
	if out := p.MustRun(t, "", "prune"); !strings.Contains(out, "pruned 0 sessions") {
		t.Errorf("prune printed %q", out)
	}
	if out := p.MustRun(t, "", "version"); !strings.HasPrefix(out, "gatepass ") {
		t.Errorf("version printed %q", out)
	}
	if r := p.Run("", "frobnicate"); r.Err == nil {
		t.Error("an unknown command succeeded")
	}
}
