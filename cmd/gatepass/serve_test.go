package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe to write from the server and read from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Server is "gatepass serve" running in-process.
type Server struct {
	URL    string
	Stdout *syncBuffer
	Stderr *syncBuffer
	stop   context.CancelFunc
	done   chan error
}

// MustServe starts "gatepass serve" on a free loopback port.
func (p *Program) MustServe(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s := &Server{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, done: make(chan error, 1)}
	m := p.NewMain("", nil, nil)
	m.Stdout, m.Stderr = s.Stdout, s.Stderr
	addr := make(chan string, 1)
	m.OnListen = func(a string) { addr <- a }

	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	args = append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
	go func() { s.done <- m.Run(ctx, args) }()

	select {
	case a := <-addr:
		s.URL = "http://" + a
	case err := <-s.done:
		cancel()
		tb.Fatalf("serve exited: %v\n%s", err, s.Stderr.String())
	}
	tb.Cleanup(func() { s.Stop(tb) })
	return s
}

// Stop shuts the server down gracefully and returns Run's error.
func (s *Server) Stop(tb testing.TB) error {
	tb.Helper()
	s.stop()
	err, ok := <-s.done
	if ok {
		close(s.done)
	}
	return err
}

func postForm(tb testing.TB, u string, form url.Values) (int, map[string]any) {
	tb.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		tb.Fatalf("decode %s: %v", u, err)
	}
	return resp.StatusCode, body
}

func TestServeDemo(t *testing.T) {
	p := NewProgram(t)
	srv := p.MustServe(t, "--demo", "--log-level", "debug")
	banner := srv.Stdout.String()
	if !strings.Contains(banner, `sign in as "demo"`) {
		t.Errorf("demo banner missing:\n%s", banner)
	}
	// The page comes first, for newcomers; the curl lines after it.
	first, _, _ := strings.Cut(strings.TrimSpace(banner), "\n")
	if !strings.HasPrefix(first, "gatepass demo: open http://") ||
		!strings.HasSuffix(first, "/ in a browser") {
		t.Errorf("the banner does not start with the demo page's address:\n%s", banner)
	}

	// The demo pages are served; the API keeps its own answers.
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: status %d, headers %v", res.StatusCode, res.Header)
	}
	res, err = http.Get(srv.URL + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /auth/me without a token: status %d", res.StatusCode)
	}

	status, tok := postForm(t, srv.URL+"/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"demo"}, "password": {"demo-password"}})
	if status != http.StatusOK || tok["token_type"] != "Bearer" {
		t.Fatalf("demo sign-in: %d %v", status, tok)
	}
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)

	req, _ := http.NewRequest("GET", srv.URL+"/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || me["username"] != "demo" {
		t.Errorf("/auth/me: %d %v", resp.StatusCode, me)
	}

	status, next := postForm(t, srv.URL+"/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusOK || next["refresh_token"] == refresh {
		t.Errorf("refresh: %d %v", status, next)
	}

	if err := srv.Stop(t); err != nil {
		t.Errorf("graceful shutdown returned %v", err)
	}
	logs := srv.Stderr.String()
	if !strings.Contains(logs, "stopped") {
		t.Errorf("no shutdown line in the log:\n%s", logs)
	}
	for _, secret := range []string{access, refresh, "demo-password"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret (%d chars)", len(secret))
		}
	}

	// The demo user is created once; a second start reuses the database.
	again := p.MustServe(t, "--demo")
	status, _ = postForm(t, again.URL+"/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"demo"}, "password": {"demo-password"}})
	if status != http.StatusOK {
		t.Errorf("sign-in after restart: %d", status)
	}
}

func TestServe_rejectsBadConfig(t *testing.T) {
	p := NewProgram(t)
	r := p.Run("", "serve", "--addr", "127.0.0.1:0", "--alg", "none")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "alg") {
		t.Errorf("--alg none: err = %v, want an error naming alg", r.Err)
	}
	r = p.Run("", "serve", "--db", "postgres://gp:s3cret@127.0.0.1:1/x?connect_timeout=2")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "database") {
		t.Errorf("unreachable PostgreSQL: err = %v, want one about the database", r.Err)
	} else if strings.Contains(r.Err.Error()+r.Stderr, "s3cret") {
		t.Errorf("the database password reached the error or the log")
	}
}

func TestServeDemo_loopbackOnly(t *testing.T) {
	p := NewProgram(t)
	r := p.Run("", "serve", "--addr", "127.0.0.1:0", "--demo", "--issuer",
		"https://auth.example.com")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "demo") {
		t.Errorf("--demo with a public issuer: err = %v, want a refusal naming demo", r.Err)
	}
	if out := p.MustRun(t, "", "user", "list"); strings.Contains(out, "demo") {
		t.Errorf("the refused demo still created its user:\n%s", out)
	}
}
