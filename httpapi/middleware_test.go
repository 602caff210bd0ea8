package httpapi

// These tests sit inside the package: the failures they provoke (panics, every
// error code, a client that hangs up) cannot be caused through the public API, so
// they register their own routes on the server's mux. They still go over loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// lockedBuffer collects log output from concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBareServer returns a Server without a service, logging into the returned
// buffer, for tests that register their own routes.
func newBareServer() (*Server, *lockedBuffer) {
	logs := &lockedBuffer{}
	s := &Server{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		mux:    http.NewServeMux(),
	}
	return s, logs
}

func TestRecoverPanics(t *testing.T) {
	s, logs := newBareServer()
	s.mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public")
		panic("boom")
	})
	s.mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"partial":`))
		w.(http.Flusher).Flush()
		panic("late boom")
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	// A panic before the answer started becomes a generic 500.
	res, err := srv.Client().Get(srv.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	want := `{"error":"server_error","error_description":"internal error"}` + "\n"
	if res.StatusCode != http.StatusInternalServerError || string(body) != want {
		t.Errorf("status %d, body %s", res.StatusCode, body)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q after a panic", got)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q after a panic, want no-store", got)
	}

	// A panic after it started cuts the connection: no truncated body passes as whole.
	res, err = srv.Client().Get(srv.URL + "/panic-late")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Errorf("a panic after the answer started did not cut the connection")
	}

	out := logs.String()
	for _, want := range []string{
		`level=ERROR msg="panic serving request" method=GET route="GET /panic" panic=boom`,
		`level=ERROR msg="panic serving request" method=GET route="GET /panic-late"`,
		`route="GET /panic" status=500`,
		`stack="goroutine`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteError(t *testing.T) {
	s, logs := newBareServer()
	errs := map[string]error{
		"internal":          errors.New("insert row: disk I/O error at /var/lib/secret-detail"),
		"wrapped-invalid":   fmt.Errorf("decode: %w", gatepass.Errorf(gatepass.EINVALID, "bad")),
		"forbidden":         gatepass.Errorf(gatepass.EFORBIDDEN, "no"),
		"not-found":         gatepass.Errorf(gatepass.ENOTFOUND, "no such thing"),
		"conflict":          gatepass.Errorf(gatepass.ECONFLICT, "taken"),
		"too-many":          gatepass.Errorf(gatepass.ETOOMANY, "slow down"),
		"unavailable":       gatepass.Errorf(gatepass.EUNAVAILABLE, "database busy"),
		"invalid-grant":     gatepass.ErrInvalidGrant,
		"invalid-scope":     gatepass.ErrInvalidScope,
		"invalid-token":     gatepass.Errorf(gatepass.EINVALIDTOKEN, `a "quoted" reason`),
		"unknown-code":      gatepass.Errorf("made_up", "whatever"),
		"unsupported-grant": gatepass.Errorf(codeUnsupportedGrantType, "no"),
		"field":             gatepass.FieldError("password", "password is too short"),
		"wrapped-conflict-fields": fmt.Errorf("sign up: %w", &gatepass.Error{
			Code: gatepass.ECONFLICT, Message: "username is already taken",
			Fields: map[string]string{"username": "username is already taken"}}),
		"cross-site":   gatepass.Errorf(codeCrossSite, "origin"),
		"cookie-grant": gatepass.Errorf(codeCookieGrant, "dead"),
	}
	body := func(code, description string) errorResponse {
		return errorResponse{Error: code, Description: description}
	}
	s.mux.HandleFunc("GET /error/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errs[r.PathValue("name")])
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	tests := []struct {
		name       string
		wantStatus int
		wantBody   errorResponse
		wantHeader map[string]string
	}{
		{name: "internal", wantStatus: 500,
			wantBody: body("server_error", "internal error")},
		{name: "wrapped-invalid", wantStatus: 400, wantBody: body("invalid_request", "bad")},
		{name: "forbidden", wantStatus: 403, wantBody: body("access_denied", "no")},
		{name: "not-found", wantStatus: 404, wantBody: body("not_found", "no such thing")},
		{name: "conflict", wantStatus: 409, wantBody: body("conflict", "taken")},
		{name: "too-many", wantStatus: 429,
			wantBody:   body("too_many_requests", "slow down"),
			wantHeader: map[string]string{"Retry-After": "60"}},
		{name: "unavailable", wantStatus: 503,
			wantBody: body("temporarily_unavailable", "database busy")},
		{name: "invalid-grant", wantStatus: 400,
			wantBody: body("invalid_grant", gatepass.ErrInvalidGrant.Message)},
		{name: "invalid-scope", wantStatus: 400,
			wantBody: body("invalid_scope", gatepass.ErrInvalidScope.Message)},
		{name: "invalid-token", wantStatus: 401,
			wantBody: body("invalid_token", `a "quoted" reason`),
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="gatepass", ` +
				`error="invalid_token", error_description="a quoted reason"`}},
		{name: "unknown-code", wantStatus: 500,
			wantBody: body("server_error", "internal error")},
		{name: "unsupported-grant", wantStatus: 400,
			wantBody: body("unsupported_grant_type", "no")},
		{name: "field", wantStatus: 400, wantBody: errorResponse{Error: "invalid_request",
			Description: "password is too short",
			Fields:      map[string]string{"password": "password is too short"}}},
		{name: "wrapped-conflict-fields", wantStatus: 409, wantBody: errorResponse{
			Error: "conflict", Description: "username is already taken",
			Fields: map[string]string{"username": "username is already taken"}}},
		{name: "cross-site", wantStatus: 403, wantBody: body("invalid_request", "origin")},
		{name: "cookie-grant", wantStatus: 401, wantBody: body("invalid_grant", "dead")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := srv.Client().Get(srv.URL + "/error/" + tt.name)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got errorResponse
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}

			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(got, tt.wantBody); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			for k, v := range tt.wantHeader {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}

	// The full chain of an internal error goes to the log, and only there.
	if out := logs.String(); !strings.Contains(out, `level=ERROR msg="internal error"`) ||
		!strings.Contains(out, "secret-detail") {
		t.Errorf("the internal error was not logged in full:\n%s", out)
	}
}

// TestClientGone checks that a request abandoned by its client is not logged as a
// server failure.
func TestClientGone(t *testing.T) {
	s, logs := newBareServer()
	started, answered := make(chan struct{}), make(chan struct{})
	s.mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		s.writeError(w, r, r.Context().Err())
		close(answered)
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	go func() {
		<-started
		cancel()
	}()
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("the canceled request succeeded")
	}
	<-answered
	srv.Close() // waits for the access log record

	out := logs.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("a client that went away was logged as an error:\n%s", out)
	}
	if !strings.Contains(out, `msg="request canceled"`) ||
		!strings.Contains(out, `route="GET /slow" status=499`) {
		t.Errorf("the log lacks the canceled request:\n%s", out)
	}
}
