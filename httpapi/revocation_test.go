package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/google/go-cmp/cmp"
)

// mustStartInstance starts a server with the revocation check on, and the
// simplejwt and introspection endpoints, on the database file at path: one instance of several
// behind a load balancer.
func mustStartInstance(tb testing.TB, path string, clock *testClock,
	logs *syncBuffer) *testEnv {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &testEnv{path: path, clock: clock, logs: logs, seen: &requestLog{}}

	e.db = sqlite.NewDB(path)
	e.db.Now = clock.Now
	e.db.Logger = logger.With("component", "sqlite")
	if err := e.db.Open(ctx); err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { e.db.Close() })

	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testAudience
	cfg.RevocationCheck = true
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	e.svc = auth.NewService(e.db, hasher, cfg)
	e.svc.Now = clock.Now
	e.svc.Logger = logger.With("component", "auth")
	if err := e.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}

	e.api = httpapi.NewServer(e.svc)
	e.api.Logger = logger.With("component", "httpapi")
	e.api.SimpleJWTCompat = true
	e.api.IntrospectionSecret = testSecret
	e.srv = httptest.NewServer(e.seen.wrap(e.api.Handler()))
	tb.Cleanup(e.srv.Close)
	return e
}

// TestRevocationCheckAcrossInstances signs a session out through POST
// /oauth/revoke on instance A and checks that instance B, on the same database,
// refuses its access token on every route that verifies one locally once it has
// polled, and that no log line carries the token.
func TestRevocationCheckAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	clock, logs := newTestClock(), &syncBuffer{}
	a := mustStartInstance(t, path, clock, logs)
	b := mustStartInstance(t, path, clock, logs)
	a.MustCreateUser(t, testUser, testEmail)
	signedOut := b.MustLogin(t, testUser)
	kept := b.MustLogin(t, testUser)

	wantVerified(t, b.Get(t, "/auth/verify", signedOut.AccessToken))
	res := a.PostForm(t, "/oauth/revoke", url.Values{"token": {signedOut.RefreshToken}})
	if res.status != http.StatusOK {
		t.Fatalf("revoke on A: status %d, body %s", res.status, res.body)
	}

	// A refuses at once; B once it has read the revocation.
	wantRevoked(t, a.Get(t, "/auth/verify", signedOut.AccessToken))
	clock.Advance(a.svc.Config().RevocationPollInterval)
	if err := b.svc.PollRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		do   func(tb testing.TB, e *testEnv, tok string) *response
		want func(tb testing.TB, r *response)
	}{
		{
			name: "me",
			do: func(tb testing.TB, e *testEnv, tok string) *response {
				return e.Get(tb, "/auth/me", tok)
			},
			want: wantRevoked,
		},
		{
			name: "forward-auth",
			do: func(tb testing.TB, e *testEnv, tok string) *response {
				return e.Get(tb, "/auth/verify", tok)
			},
			want: func(tb testing.TB, r *response) {
				wantRevoked(tb, r)
				if got := authHeaders(r.header); got != nil {
					tb.Errorf("identity headers on a 401: %v", got)
				}
			},
		},
		{
			name: "simplejwt-verify",
			do: func(tb testing.TB, e *testEnv, tok string) *response {
				return e.PostJSON(tb, "/api/token/verify/", map[string]string{"token": tok})
			},
			want: func(tb testing.TB, r *response) {
				wantTokenNotValid(tb, r, "Token is invalid")
			},
		},
		{
			name: "introspect",
			do: func(tb testing.TB, e *testEnv, tok string) *response {
				return e.Introspect(tb, tok)
			},
			want: func(tb testing.TB, r *response) {
				got := r.JSON(tb)
				if diff := cmp.Diff(got, map[string]any{"active": false}); diff != "" {
					tb.Errorf("introspection (-got +want):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want(t, tt.do(t, b, signedOut.AccessToken))
			if r := tt.do(t, b, kept.AccessToken); r.status != http.StatusOK {
				t.Errorf("the user's other session: status %d, body %s", r.status, r.body)
			}
		})
	}

	if strings.Contains(logs.String(), signedOut.AccessToken) {
		t.Error("a log line carries the access token")
	}
	if !strings.Contains(logs.String(), `reason="token has been revoked"`) {
		t.Errorf("no rejection logged with its reason; logs:\n%s", logs.String())
	}
}

// wantRevoked checks the 401 of an access token whose session was revoked: an
// invalid_token error that says so, in the body and in the challenge.
func wantRevoked(tb testing.TB, r *response) {
	tb.Helper()
	wantError(tb, r, http.StatusUnauthorized, "invalid_token")
	if got, want := r.String(tb, "error_description"), "token has been revoked"; got != want {
		tb.Errorf("error_description = %q, want %q", got, want)
	}
	want := `Bearer realm="gatepass", error="invalid_token", ` +
		`error_description="token has been revoked"`
	if got := r.header.Get("WWW-Authenticate"); got != want {
		tb.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}
