package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/metrics"
	"github.com/gatepass/gatepass/ratelimit"
)

// MustObserve gives the env's service the metrics that production wires in, and
// returns them.
func MustObserve(tb testing.TB, env *Env) *metrics.Metrics {
	tb.Helper()
	m := metrics.New(env.Service)
	env.Service.Observer = m
	return m
}

// counts returns the non-zero series of a counter with one label, by label value.
func counts(tb testing.TB, m *metrics.Metrics, name string) map[string]float64 {
	tb.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if v := s.GetCounter().GetValue(); v != 0 {
				got[s.GetLabel()[0].GetValue()] = v
			}
		}
	}
	return got
}

// mustClaims verifies the access token of p.
func mustClaims(tb testing.TB, env *Env, p *auth.TokenPair) *gatepass.Claims {
	tb.Helper()
	c, err := env.Service.VerifyAccessToken(p.AccessToken)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestObserver_revocations checks that every way of ending sessions reports how
// many it ended and why, and that ending dead sessions again reports nothing.
func TestObserver_revocations(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, env *Env, a, b *auth.TokenPair) error
		want map[string]float64
	}{
		{
			name: "password-changed",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				return env.Service.SetPassword(t.Context(), "alice", "a-new-password-42")
			},
			want: map[string]float64{gatepass.RevokePassword: 2},
		},
		{
			name: "user-disabled",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				return env.Service.SetDisabled(t.Context(), "alice", true)
			},
			want: map[string]float64{gatepass.RevokeDisabled: 2},
		},
		{
			name: "user-enabled",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				return env.Service.SetDisabled(t.Context(), "alice", false)
			},
			want: map[string]float64{},
		},
		{
			name: "revoke-token-twice",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				if err := env.Service.Revoke(t.Context(), a.RefreshToken, ""); err != nil {
					return err
				}
				return env.Service.Revoke(t.Context(), a.AccessToken, "")
			},
			want: map[string]float64{gatepass.RevokeLogout: 1},
		},
		{
			name: "delete-own-session-twice",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				for range 2 {
					err := env.Service.RevokeUserSession(t.Context(), a.UserID, b.SessionID)
					if err != nil {
						return err
					}
				}
				return nil
			},
			want: map[string]float64{gatepass.RevokeLogout: 1},
		},
		{
			name: "logout-others",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				_, err := env.Service.Logout(t.Context(), mustClaims(t, env, a),
					auth.LogoutOthers)
				return err
			},
			want: map[string]float64{gatepass.RevokeLogout: 1},
		},
		{
			name: "logout-global-then-local",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				c := mustClaims(t, env, a)
				if _, err := env.Service.Logout(t.Context(), c, auth.LogoutGlobal); err != nil {
					return err
				}
				_, err := env.Service.Logout(t.Context(), c, auth.LogoutLocal)
				return err
			},
			want: map[string]float64{gatepass.RevokeLogout: 2},
		},
		{
			name: "admin",
			act: func(t *testing.T, env *Env, a, b *auth.TokenPair) error {
				_, err := env.Service.RevokeUserSessions(t.Context(), a.UserID, "",
					gatepass.RevokeAdmin)
				return err
			},
			want: map[string]float64{gatepass.RevokeAdmin: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			env.MustCreateUser(t, "alice")
			env.MustCreateUser(t, "bob")
			a, b := env.MustLogin(t, "alice"), env.MustLogin(t, "alice")
			env.MustLogin(t, "bob")
			m := MustObserve(t, env)

			if err := tt.act(t, env, a, b); err != nil {
				t.Fatal(err)
			}

			got := counts(t, m, "gatepass_sessions_revoked_total")
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("revocations (-got +want):\n%s", diff)
			}
			var revoked float64
			for _, n := range tt.want {
				revoked += n
			}
			n, err := env.Service.CountActiveSessions(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if want := 3 - int64(revoked); n != want {
				t.Errorf("CountActiveSessions = %d, want %d", n, want)
			}
		})
	}
}

// TestObserver_outcomes checks the outcome reported for sign-ins and refreshes
// refused for each kind of reason.
func TestObserver_outcomes(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name          string
		act           func(t *testing.T, env *Env, p *auth.TokenPair)
		wantSignIns   map[string]float64
		wantRefreshes map[string]float64
		wantLimited   map[string]float64
	}{
		{
			name: "unknown-user",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				login(env, "mallory", "mallory-password", "192.0.2.1")
			},
			wantSignIns: map[string]float64{auth.OutcomeInvalidCredentials: 1},
		},
		{
			name: "scope-not-allowed",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				env.Service.Login(t.Context(), auth.LoginRequest{Username: "alice",
					Password: "alice-password", Scope: "admin"})
			},
			wantSignIns: map[string]float64{auth.OutcomeInvalid: 1},
		},
		{
			name: "client-gave-up",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				env.Service.Login(canceled, auth.LoginRequest{Username: "alice",
					Password: "alice-password"})
			},
			wantSignIns: map[string]float64{auth.OutcomeCanceled: 1},
		},
		{
			name: "refresh-malformed-and-unknown",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				env.Refresh("not a token")
				env.Refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			},
			wantRefreshes: map[string]float64{auth.OutcomeInvalid: 2},
		},
		{
			name: "refresh-expired",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				env.Clock.Advance(8 * 24 * time.Hour)
				env.Refresh(p.RefreshToken)
			},
			wantRefreshes: map[string]float64{auth.OutcomeInvalid: 1},
		},
		{
			name: "refresh-rate-limited",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				l := ratelimit.NewLimiter(1, time.Minute)
				l.Now = env.Clock.Now
				env.Service.RefreshLimiter = l
				c := auth.Client{IPAddress: "192.0.2.1"}
				next, err := env.Service.Refresh(t.Context(),
					auth.RefreshRequest{RefreshToken: p.RefreshToken, Client: c})
				if err != nil {
					t.Fatal(err)
				}
				env.Service.Refresh(t.Context(),
					auth.RefreshRequest{RefreshToken: next.RefreshToken, Client: c})
			},
			wantRefreshes: map[string]float64{auth.OutcomeSuccess: 1,
				auth.OutcomeRateLimited: 1},
			wantLimited: map[string]float64{auth.LimitRefresh: 1},
		},
		{
			name: "sign-in-rate-limited",
			act: func(t *testing.T, env *Env, p *auth.TokenPair) {
				l := ratelimit.NewLimiter(1, time.Minute)
				l.Now = env.Clock.Now
				env.Service.Limiter = l
				login(env, "alice", "alice-password", "192.0.2.1")
				login(env, "alice", "alice-password", "192.0.2.2")
				login(env, "bob", "bob-password", "192.0.2.1")
			},
			wantSignIns: map[string]float64{auth.OutcomeSuccess: 1,
				auth.OutcomeRateLimited: 2},
			wantLimited: map[string]float64{auth.LimitLoginAccount: 1,
				auth.LimitLoginAddress: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			env.MustCreateUser(t, "alice")
			p := env.MustLogin(t, "alice")
			m := MustObserve(t, env)

			tt.act(t, env, p)

			if tt.wantSignIns == nil {
				tt.wantSignIns = map[string]float64{}
			}
			if tt.wantRefreshes == nil {
				tt.wantRefreshes = map[string]float64{}
			}
			if tt.wantLimited == nil {
				tt.wantLimited = map[string]float64{}
			}
			got := counts(t, m, "gatepass_sign_ins_total")
			if diff := cmp.Diff(got, tt.wantSignIns); diff != "" {
				t.Errorf("sign-ins (-got +want):\n%s", diff)
			}
			got = counts(t, m, "gatepass_refreshes_total")
			if diff := cmp.Diff(got, tt.wantRefreshes); diff != "" {
				t.Errorf("refreshes (-got +want):\n%s", diff)
			}
			got = counts(t, m, "gatepass_rate_limited_total")
			if diff := cmp.Diff(got, tt.wantLimited); diff != "" {
				t.Errorf("rate-limit refusals (-got +want):\n%s", diff)
			}
		})
	}
}

// TestCountActiveSessions checks the count as sessions start, end and expire.
func TestCountActiveSessions(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	env.MustCreateUser(t, "bob")
	check := func(step string, want int64) {
		t.Helper()
		got, err := env.Service.CountActiveSessions(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		} else if got != want {
			t.Errorf("%s: CountActiveSessions = %d, want %d", step, got, want)
		}
	}

	check("no sessions", 0)
	a := env.MustLogin(t, "alice")
	env.MustLogin(t, "alice")
	env.MustLogin(t, "bob")
	check("three sign-ins", 3)

	if _, err := env.Refresh(a.RefreshToken); err != nil {
		t.Fatal(err)
	}
	check("after a rotation", 3)

	if err := env.Service.Revoke(t.Context(), a.AccessToken, ""); err != nil {
		t.Fatal(err)
	}
	check("after a sign-out", 2)

	env.Clock.Advance(auth.DefaultConfig().SessionTTL)
	check("at the sessions' absolute end", 0)
}
