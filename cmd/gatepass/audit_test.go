package main_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// auditLine is one line of "gatepass audit --json".
type auditLine struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	UserID    int64     `json:"user_id"`
	User      string    `json:"user"`
	SessionID string    `json:"session_id"`
	ClientIP  string    `json:"client_ip"`
	UserAgent string    `json:"user_agent"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
}

// auditRow is what the test expects of an event; the fields it cannot know in
// advance (times, IDs) are checked apart.
type auditRow struct {
	Kind, User, ClientIP, UserAgent, Reason string
}

// auditSignIn posts a password grant with a user agent and returns the status
// and the refresh token.
func auditSignIn(tb testing.TB, base, user, pw, agent string) (int, string) {
	tb.Helper()
	status, body := auditPost(tb, base+"/oauth/token", agent, url.Values{
		"grant_type": {"password"}, "username": {user}, "password": {pw}})
	refresh, _ := body["refresh_token"].(string)
	return status, refresh
}

// auditPost posts a form with the User-Agent agent and decodes the answer.
func auditPost(tb testing.TB, u, agent string, form url.Values) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", agent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, body // RFC 7009 answers 200 with an empty body
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// parseAudit decodes the output of "gatepass audit --json".
func parseAudit(tb testing.TB, out string) []auditLine {
	tb.Helper()
	lines := []auditLine{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l auditLine
		if err := dec.Decode(&l); err != nil {
			tb.Fatalf("audit --json: %v\n%s", err, out)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestAudit runs real actions through the server and the admin commands, then
// reads the trail with "gatepass audit" as JSON and as a table.
func TestAudit(t *testing.T) {
	p := NewProgram(t)
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	p.MustRun(t, "bob-password\n", "user", "add", "bob", "--password-stdin")
	srv := p.MustServe(t)

	const agent = "audit-test/1.0"
	if status, _ := auditSignIn(t, srv.URL, "alice", "alice-password", agent); status != 200 {
		t.Fatalf("sign-in: %d", status)
	}
	_, refresh := auditSignIn(t, srv.URL, "bob", "bob-password", agent)
	if status, _ := auditSignIn(t, srv.URL, "bob", "guessed-wrong", agent); status != 400 {
		t.Fatalf("wrong password: %d, want 400", status)
	}
	// A forged name tries to break the table with a newline and a colour code.
	if status, _ := auditSignIn(t, srv.URL, "mallory\n\x1b[31mroot", "x", agent); status != 400 {
		t.Fatalf("unknown user: %d, want 400", status)
	}
	status, body := auditPost(t, srv.URL+"/oauth/token", agent, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	next, _ := body["refresh_token"].(string)
	if status, _ := auditPost(t, srv.URL+"/oauth/revoke", agent,
		url.Values{"token": {next}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if err := srv.Stop(t); err != nil {
		t.Fatal(err)
	}
	p.MustRun(t, "", "user", "disable", "alice")
	p.MustRun(t, "", "keys", "rotate")

	out := p.MustRun(t, "", "audit", "--json")
	if strings.Contains(out, "guessed-wrong") || strings.Contains(out, "bob-password") {
		t.Errorf("the trail holds a password:\n%s", out)
	}
	lines := parseAudit(t, out)
	checkAuditLines(t, lines)

	t.Run("table", func(t *testing.T) {
		table := p.MustRun(t, "", "audit")
		checkAuditTable(t, table, lines)
		if strings.ContainsAny(table, "\x1b\r") || strings.Contains(table, "guessed-wrong") {
			t.Errorf("table holds a control character or a password:\n%s", table)
		}
		if !strings.Contains(table, `mallory\n\x1b[31mroot`) {
			t.Errorf("the forged name is not shown escaped:\n%s", table)
		}
	})

	t.Run("user", func(t *testing.T) {
		got := parseAudit(t, p.MustRun(t, "", "audit", "--user", "bob", "--json"))
		var kinds []string
		for _, l := range got {
			kinds = append(kinds, l.Kind)
		}
		want := []string{"user_created", "sign_in", "sign_in_failed", "refresh",
			"session_revoked"}
		if diff := cmp.Diff(kinds, want); diff != "" {
			t.Errorf("bob's events (-got +want):\n%s", diff)
		}
	})

	t.Run("unknown-user", func(t *testing.T) {
		r := p.Run("", "audit", "--user", "nobody")
		if r.Err == nil || !strings.Contains(r.Err.Error(), `no user named "nobody"`) {
			t.Errorf("err = %v, want one saying there is no such user", r.Err)
		}
		if r.Stdout != "" {
			t.Errorf("printed %q for an unknown user", r.Stdout)
		}
	})

	t.Run("limit-keeps-newest", func(t *testing.T) {
		got := parseAudit(t, p.MustRun(t, "", "audit", "--limit", "2", "--json"))
		if diff := cmp.Diff(got, lines[len(lines)-2:]); diff != "" {
			t.Errorf("audit --limit 2 (-got +want):\n%s", diff)
		}
	})

	t.Run("since", func(t *testing.T) {
		got := parseAudit(t, p.MustRun(t, "", "audit", "--since", "1h", "--json"))
		if diff := cmp.Diff(got, lines); diff != "" {
			t.Errorf("audit --since 1h (-got +want):\n%s", diff)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		table := p.MustRun(t, "", "audit", "--since", future)
		if rows := strings.Split(strings.TrimSpace(table), "\n"); len(rows) != 1 {
			t.Errorf("audit --since %s printed events:\n%s", future, table)
		}
		if r := p.Run("", "audit", "--since", "yesterday"); r.Err == nil ||
			!strings.Contains(r.Err.Error(), "since") {
			t.Errorf("bad --since: err = %v, want the flag named", r.Err)
		}
	})
}

// checkAuditLines checks the trail of TestAudit's actions: what happened, to
// whom, from where and why, in order, and that one session's events agree.
func checkAuditLines(t *testing.T, lines []auditLine) {
	t.Helper()
	const agent = "audit-test/1.0"
	local := "127.0.0.1"
	want := []auditRow{
		{Kind: "key_created"},
		{Kind: "user_created", User: "alice"},
		{Kind: "user_created", User: "bob"},
		{Kind: "sign_in", User: "alice", ClientIP: local, UserAgent: agent},
		{Kind: "sign_in", User: "bob", ClientIP: local, UserAgent: agent},
		{Kind: "sign_in_failed", User: "bob", ClientIP: local, UserAgent: agent,
			Reason: "wrong_password"},
		{Kind: "sign_in_failed", User: "mallory\n\x1b[31mroot", ClientIP: local,
			UserAgent: agent, Reason: "unknown_user"},
		{Kind: "refresh", User: "bob", ClientIP: local, UserAgent: agent},
		{Kind: "session_revoked", User: "bob", ClientIP: local, UserAgent: agent,
			Reason: "logout"},
		{Kind: "user_disabled", User: "alice"},
		{Kind: "session_revoked", User: "alice", Reason: "user_disabled"},
		{Kind: "key_rotated"},
	}
	var got []auditRow
	for _, l := range lines {
		row := auditRow{Kind: l.Kind, User: l.User, ClientIP: l.ClientIP,
			UserAgent: l.UserAgent, Reason: l.Reason}
		got = append(got, row)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("trail (-got +want):\n%s", diff)
	}

	// Bob's sign-in, refresh and sign-out are one session; alice's revoked
	// session is the one she signed in to.
	bob := []auditLine{lines[4], lines[7], lines[8]}
	for _, l := range bob[1:] {
		if l.SessionID != bob[0].SessionID || l.SessionID == "" {
			t.Errorf("%s of session %q, want bob's session %q", l.Kind, l.SessionID,
				bob[0].SessionID)
		}
	}
	if lines[10].SessionID != lines[3].SessionID {
		t.Errorf("revoked session %q, want alice's %q", lines[10].SessionID,
			lines[3].SessionID)
	}
	for i, l := range lines {
		if i > 0 && (l.Time.Before(lines[i-1].Time) || l.ID <= lines[i-1].ID) {
			t.Errorf("event %d (%s) is out of order", i, l.Kind)
		}
		if l.Time.Location() != time.UTC || time.Since(l.Time) > time.Hour {
			t.Errorf("event %d (%s) time %v, want recent UTC", i, l.Kind, l.Time)
		}
	}
}

// checkAuditTable checks that the table shows the same events as the JSON, one
// per row under an aligned header, with times in RFC 3339 UTC.
func checkAuditTable(t *testing.T, table string, lines []auditLine) {
	t.Helper()
	rows := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	header := regexp.MustCompile(`^TIME +KIND +USER +SESSION +ADDRESS +USER AGENT +` +
		`REASON +DETAIL$`)
	if !header.MatchString(rows[0]) {
		t.Fatalf("header %q", rows[0])
	}
	if len(rows) != len(lines)+1 {
		t.Fatalf("%d rows, want %d events:\n%s", len(rows)-1, len(lines), table)
	}

	kindAt := strings.Index(rows[0], "KIND")
	for i, row := range rows[1:] {
		l := lines[i]
		if want := l.Time.Truncate(time.Second).Format(time.RFC3339); !strings.HasPrefix(
			row, want+" ") {
			t.Errorf("row %d starts %q, want time %s", i, row, want)
		}
		if !strings.HasPrefix(row[kindAt:], l.Kind+" ") {
			t.Errorf("row %d kind column: %q, want %s", i, row[kindAt:], l.Kind)
		}
		if l.SessionID != "" && !strings.Contains(row, " "+l.SessionID+" ") {
			t.Errorf("row %d does not show session %s: %q", i, l.SessionID, row)
		}
	}
}
