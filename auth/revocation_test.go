package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/metrics"
)

// withRevocationCheck turns the revocation check on.
func withRevocationCheck(c *auth.Config) {
	c.RevocationCheck = true
}

// verifiers are the two ways to check an access token, which must agree on
// every token.
var verifiers = []struct {
	name   string
	verify func(*auth.Service, string) (*gatepass.Claims, error)
}{
	{"VerifyAccessToken", (*auth.Service).VerifyAccessToken},
	{"VerifyAccessTokenShared", (*auth.Service).VerifyAccessTokenShared},
}

// checkRefused reports an error unless svc refuses tok as the token of a revoked
// session, with the error a client sees as 401 invalid_token.
func checkRefused(tb testing.TB, svc *auth.Service, tok string) {
	tb.Helper()
	for _, v := range verifiers {
		_, err := v.verify(svc, tok)
		if !errors.Is(err, auth.ErrTokenRevoked) {
			tb.Errorf("%s = %v, want ErrTokenRevoked", v.name, err)
		}
		if got, want := gatepass.ErrorCode(err), gatepass.EINVALIDTOKEN; got != want {
			tb.Errorf("%s: error code = %q, want %q", v.name, got, want)
		}
		if got, want := gatepass.ErrorMessage(err), "token has been revoked"; got != want {
			tb.Errorf("%s: error message = %q, want %q", v.name, got, want)
		}
	}
}

// checkAccepted reports an error unless svc accepts tok as a token of session
// sid.
func checkAccepted(tb testing.TB, svc *auth.Service, tok, sid string) {
	tb.Helper()
	for _, v := range verifiers {
		c, err := v.verify(svc, tok)
		if err != nil {
			tb.Errorf("%s = %v, want the token accepted", v.name, err)
		} else if c.SessionID != sid {
			tb.Errorf("%s: sid = %q, want %q", v.name, c.SessionID, sid)
		}
	}
}

// TestRevocationCheck_refusesAtOnce revokes a session in each way there is and
// checks that the same instance refuses its access token straight away, without
// polling, while the tokens of sessions left alive keep working.
func TestRevocationCheck_refusesAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(t *testing.T, env *Env, target, other *auth.TokenPair)
		// otherRevoked says whether the user's other session ends too.
		otherRevoked bool
	}{
		{
			name: "logout",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				c := mustVerify(t, env, target.AccessToken)
				if _, err := env.Service.Logout(t.Context(), c, auth.LogoutLocal); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "logout-others",
			revoke: func(t *testing.T, env *Env, _, other *auth.TokenPair) {
				c := mustVerify(t, env, other.AccessToken)
				if _, err := env.Service.Logout(t.Context(), c, auth.LogoutOthers); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "logout-global",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				c := mustVerify(t, env, target.AccessToken)
				if _, err := env.Service.Logout(t.Context(), c, auth.LogoutGlobal); err != nil {
					t.Fatal(err)
				}
			},
			otherRevoked: true,
		},
		{
			name: "revoke-refresh-token",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				if err := env.Service.Revoke(t.Context(), target.RefreshToken, ""); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "revoke-own-session",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				err := env.Service.RevokeUserSession(t.Context(), target.UserID,
					target.SessionID)
				if err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "admin",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				err := env.Service.RevokeSession(t.Context(), target.SessionID,
					gatepass.RevokeAdmin)
				if err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "reuse-detection",
			revoke: func(t *testing.T, env *Env, target, _ *auth.TokenPair) {
				if _, err := env.Refresh(target.RefreshToken); err != nil {
					t.Fatal(err)
				}
				env.Clock.Advance(env.Service.Config().ReuseInterval + time.Second)
				if _, err := env.Refresh(target.RefreshToken); !errors.Is(err,
					gatepass.ErrInvalidGrant) {
					t.Fatalf("replay after the interval: err = %v, want ErrInvalidGrant",
						err)
				}
			},
		},
		{
			name: "password-change",
			revoke: func(t *testing.T, env *Env, _, _ *auth.TokenPair) {
				err := env.Service.SetPassword(t.Context(), "alice", "a-new-long-password")
				if err != nil {
					t.Fatal(err)
				}
			},
			otherRevoked: true,
		},
		{
			name: "user-disabled",
			revoke: func(t *testing.T, env *Env, _, _ *auth.TokenPair) {
				if err := env.Service.SetDisabled(t.Context(), "alice", true); err != nil {
					t.Fatal(err)
				}
			},
			otherRevoked: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, withRevocationCheck)
			env.MustCreateUser(t, "alice")
			env.MustCreateUser(t, "bob")
			target := env.MustLogin(t, "alice")
			other := env.MustLogin(t, "alice")
			bobs := env.MustLogin(t, "bob")

			tt.revoke(t, env, target, other)

			// "logout-others" ends target from other's session; every other case
			// ends target, and some end other with it.
			if tt.name == "logout-others" {
				checkRefused(t, env.Service, target.AccessToken)
				checkAccepted(t, env.Service, other.AccessToken, other.SessionID)
			} else {
				checkRefused(t, env.Service, target.AccessToken)
				if tt.otherRevoked {
					checkRefused(t, env.Service, other.AccessToken)
				} else {
					checkAccepted(t, env.Service, other.AccessToken, other.SessionID)
				}
			}
			checkAccepted(t, env.Service, bobs.AccessToken, bobs.SessionID)

			// The list holds the revoked sessions and nothing else.
			want := 1
			if tt.otherRevoked {
				want = 2
			}
			if got := env.Service.RevokedSessions(); got != want {
				t.Errorf("RevokedSessions = %d, want %d", got, want)
			}
		})
	}
}

// mustVerify verifies an access token that must be valid.
func mustVerify(tb testing.TB, env *Env, tok string) *gatepass.Claims {
	tb.Helper()
	c, err := env.Service.VerifyAccessToken(tok)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestRevocationCheck_off keeps today's behaviour: a signed-out session's access
// token is accepted until it expires, and nothing is kept in memory.
func TestRevocationCheck_off(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	ctx := t.Context()

	if err := env.Service.RevokeSession(ctx, pair.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}
	if err := env.Service.PollRevocations(ctx); err != nil {
		t.Errorf("PollRevocations with the check off = %v, want nil", err)
	}

	checkAccepted(t, env.Service, pair.AccessToken, pair.SessionID)
	if got := env.Service.RevokedSessions(); got != 0 {
		t.Errorf("RevokedSessions = %d, want 0", got)
	}
}

// TestRevocationCheck_entriesExpire checks that a revoked session is refused for
// as long as any of its tokens can be valid, and swept from memory soon after.
func TestRevocationCheck_entriesExpire(t *testing.T) {
	env := MustOpenEnv(t, withRevocationCheck)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	ctx := t.Context()
	cfg := env.Service.Config()

	if err := env.Service.RevokeSession(ctx, pair.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}

	// The token verifies until its exp plus the leeway; it is refused until then.
	env.Clock.Advance(cfg.AccessTTL + cfg.Leeway - time.Second)
	mustPoll(t, env.Service)
	checkRefused(t, env.Service, pair.AccessToken)
	if got := env.Service.RevokedSessions(); got != 1 {
		t.Errorf("RevokedSessions before the token expired = %d, want 1", got)
	}

	// A minute later no token of the session can be alive: the entry is gone.
	env.Clock.Advance(time.Minute)
	mustPoll(t, env.Service)
	if got := env.Service.RevokedSessions(); got != 0 {
		t.Errorf("RevokedSessions after the token expired = %d, want 0", got)
	}
	if _, err := env.Service.VerifyAccessToken(pair.AccessToken); gatepass.ErrorCode(err) !=
		gatepass.EINVALIDTOKEN {
		t.Errorf("VerifyAccessToken after expiry = %v, want an invalid token", err)
	}
}

// TestRevocationCheck_loadsAtOpen checks that an instance that starts after a
// revocation refuses the session's tokens from its first request, and leaves out
// revocations too old to matter.
func TestRevocationCheck_loadsAtOpen(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := t.Context()
	cfg := env.Service.Config()

	old := env.MustLogin(t, "alice")
	if err := env.Service.RevokeSession(ctx, old.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(cfg.AccessTTL + cfg.Leeway + time.Minute)
	recent := env.MustLogin(t, "alice")
	if err := env.Service.RevokeSession(ctx, recent.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}

	started := MustReopenEnv(t, env.Path, env.Clock, withRevocationCheck)
	checkRefused(t, started.Service, recent.AccessToken)
	if got := started.Service.RevokedSessions(); got != 1 {
		t.Errorf("RevokedSessions = %d, want 1: only the recent revocation", got)
	}
}

// TestRevocationCheck_config checks the settings the check depends on.
func TestRevocationCheck_config(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*auth.Config)
		wantErr string
	}{
		{name: "defaults", change: func(*auth.Config) {}},
		{name: "check-off-ignores-interval", change: func(c *auth.Config) {
			c.RevocationPollInterval = 0
		}},
		{name: "interval-too-short", change: func(c *auth.Config) {
			c.RevocationCheck, c.RevocationPollInterval = true, time.Millisecond
		}, wantErr: "revocation-poll-interval: must be at least 10ms, got 1ms"},
		{name: "retention-shorter-than-tokens", change: func(c *auth.Config) {
			c.RevocationCheck, c.RevokedRetention = true, 10*time.Minute
		}, wantErr: "revoked-retention: must be at least 16m10s with revocation-check," +
			" got 10m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := auth.DefaultConfig()
			tt.change(&cfg)
			got := ""
			if err := cfg.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Validate = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// mustPoll polls the store for revocations.
func mustPoll(tb testing.TB, svc *auth.Service) {
	tb.Helper()
	if err := svc.PollRevocations(context.Background()); err != nil {
		tb.Fatalf("PollRevocations: %v", err)
	}
}

// TestRevocationCheck_storeDown checks that a failed poll keeps the revocations
// already known and fails open for the rest.
func TestRevocationCheck_storeDown(t *testing.T) {
	env := MustOpenEnv(t, withRevocationCheck)
	env.MustCreateUser(t, "alice")
	ctx := t.Context()
	revoked := env.MustLogin(t, "alice")
	alive := env.MustLogin(t, "alice")
	if err := env.Service.RevokeSession(ctx, revoked.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}

	env.Store.Close()
	env.Clock.Advance(time.Second)
	if err := env.Service.PollRevocations(ctx); err == nil {
		t.Error("PollRevocations on a closed store = nil, want an error")
	}
	checkRefused(t, env.Service, revoked.AccessToken)
	checkAccepted(t, env.Service, alive.AccessToken, alive.SessionID)
	if got := env.Service.RevokedSessions(); got != 1 {
		t.Errorf("RevokedSessions = %d, want 1", got)
	}
}

// TestRevocationCheck_staleListIsNotReady checks that an instance whose polls
// have stopped succeeding reports itself not ready, and ready again once one
// succeeds.
func TestRevocationCheck_staleListIsNotReady(t *testing.T) {
	env := MustOpenEnv(t, withRevocationCheck)
	ctx := t.Context()
	if err := env.Service.Ready(ctx); err != nil {
		t.Fatalf("Ready after Open: %v", err)
	}

	env.Clock.Advance(20*env.Service.Config().RevocationPollInterval + time.Second)
	err := env.Service.Ready(ctx)
	if gatepass.ErrorCode(err) != gatepass.EUNAVAILABLE ||
		gatepass.ErrorMessage(err) != "revocation list is stale" {
		t.Errorf("Ready without a poll for 20 intervals = %v, want the stale list", err)
	}

	mustPoll(t, env.Service)
	if err := env.Service.Ready(ctx); err != nil {
		t.Errorf("Ready after a poll: %v", err)
	}
}

// BenchmarkVerifyAccessToken measures local verification without the revocation
// check, with it and an empty list, and with it and 10,000 recently revoked
// sessions, for the default ES256 and for HS256, whose verification is cheap
// enough that the lookup's share shows.
func BenchmarkVerifyAccessToken(b *testing.B) {
	for _, alg := range []string{"ES256", "HS256"} {
		for _, bb := range []struct {
			name    string
			check   bool
			revoked int
		}{
			{name: "check-off"},
			{name: "check-on", check: true},
			{name: "check-on-10000-revoked", check: true, revoked: 10000},
		} {
			b.Run(alg+"/"+bb.name, func(b *testing.B) {
				env := MustOpenEnv(b, func(c *auth.Config) {
					c.Algorithm, c.RevocationCheck = alg, bb.check
				})
				u := env.MustCreateUser(b, "alice")
				tok := env.MustLogin(b, "alice").AccessToken
				mustRevokeMany(b, env, u.ID, bb.revoked)

				b.ReportAllocs()
				for b.Loop() {
					if _, err := env.Service.VerifyAccessToken(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// mustRevokeMany stores n revoked sessions of user userID and polls them into
// the revocation list.
func mustRevokeMany(tb testing.TB, env *Env, userID int64, n int) {
	tb.Helper()
	if n == 0 {
		return
	}
	now := env.Clock.Now()
	err := env.Store.Update(context.Background(), func(tx gatepass.Tx) error {
		for i := range n {
			s := &gatepass.Session{ID: fmt.Sprintf("revoked-%d", i), UserID: userID,
				CreatedAt: now, ExpiresAt: now.Add(time.Hour), RevokedAt: now,
				RevokeReason: gatepass.RevokeAdmin}
			if err := tx.CreateSession(context.Background(), s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	mustPoll(tb, env.Service)
	if got := env.Service.RevokedSessions(); got != n {
		tb.Fatalf("RevokedSessions = %d, want %d", got, n)
	}
}

// revocationCounts is the production metrics Observer plus the two methods of
// auth.RevocationObserver, counting what they are told.
type revocationCounts struct {
	*metrics.Metrics

	mu      sync.Mutex
	refused int
	polls   map[string]int
}

// AccessTokenRevoked counts a refused token.
func (o *revocationCounts) AccessTokenRevoked() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused++
}

// RevocationPoll counts a poll by outcome.
func (o *revocationCounts) RevocationPoll(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.polls[outcome]++
}

// TestRevocationCheck_observer checks that an Observer that implements
// RevocationObserver is told of refused tokens and of polls and their outcome.
func TestRevocationCheck_observer(t *testing.T) {
	env := MustOpenEnv(t, withRevocationCheck)
	env.MustCreateUser(t, "alice")
	o := &revocationCounts{Metrics: metrics.New(env.Service), polls: map[string]int{}}
	env.Service.Observer = o
	pair := env.MustLogin(t, "alice")
	ctx := t.Context()

	if err := env.Service.RevokeSession(ctx, pair.SessionID, gatepass.RevokeAdmin); err != nil {
		t.Fatal(err)
	}
	// Each check refuses the token twice, once per way of verifying it.
	for range 2 {
		checkRefused(t, env.Service, pair.AccessToken)
	}
	mustPoll(t, env.Service)
	env.Store.Close()
	if err := env.Service.PollRevocations(ctx); err == nil {
		t.Fatal("PollRevocations on a closed store = nil, want an error")
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.refused != 4 {
		t.Errorf("AccessTokenRevoked calls = %d, want 4", o.refused)
	}
	want := map[string]int{auth.OutcomeSuccess: 1, auth.OutcomeError: 1}
	if diff := cmp.Diff(o.polls, want); diff != "" {
		t.Errorf("RevocationPoll outcomes (-got +want):\n%s", diff)
	}
}
