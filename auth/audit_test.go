package auth_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// ignoreID leaves the store-assigned ID out of event comparisons.
var ignoreID = cmpopts.IgnoreFields(gatepass.AuditEvent{}, "ID")

// mustFindEvents returns the events filter selects, oldest first, the order
// they happened in.
func mustFindEvents(tb testing.TB, env *Env, filter gatepass.AuditFilter) []*gatepass.AuditEvent {
	tb.Helper()
	events, err := env.Service.FindAuditEvents(context.Background(), filter)
	if err != nil {
		tb.Fatal(err)
	}
	slices.Reverse(events)
	return events
}

// userEvents returns the events of one user of the kinds given, oldest first.
func userEvents(tb testing.TB, env *Env, u *gatepass.User,
	kinds ...string) []*gatepass.AuditEvent {
	tb.Helper()
	var events []*gatepass.AuditEvent
	for _, e := range mustFindEvents(tb, env, gatepass.AuditFilter{UserID: &u.ID}) {
		if slices.Contains(kinds, e.Kind) {
			events = append(events, e)
		}
	}
	return events
}

func TestAudit_sessionLifecycle(t *testing.T) {
	env := MustOpenEnv(t, nil)
	alice := env.MustCreateUser(t, "alice")
	ctx := context.Background()
	created := env.Clock.Now()
	phone := auth.Client{IPAddress: "192.0.2.1", UserAgent: "phone/1"}
	laptop := auth.Client{IPAddress: "198.51.100.7", UserAgent: "laptop/2"}
	thief := auth.Client{IPAddress: "203.0.113.66", UserAgent: "curl/8"}

	// Sign in, rotate, replay inside the reuse interval, then replay after it.
	pair, err := env.Service.Login(ctx, auth.LoginRequest{Username: "alice",
		Password: "alice-password", Client: phone})
	if err != nil {
		t.Fatal(err)
	}
	signedIn := env.Clock.Now()
	env.Clock.Advance(time.Minute)
	refreshed := env.Clock.Now()
	_, err = env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: pair.RefreshToken,
		Client: phone})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Second)
	replayed := env.Clock.Now()
	_, err = env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: pair.RefreshToken,
		Client: laptop})
	if err != nil {
		t.Fatalf("replay inside the reuse interval: %v", err)
	}
	env.Clock.Advance(time.Minute)
	reused := env.Clock.Now()
	_, err = env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: pair.RefreshToken,
		Client: thief})
	if err == nil {
		t.Fatal("reuse after the interval succeeded")
	}

	sid := pair.SessionID
	event := func(at time.Time, kind string, c auth.Client, sid,
		reason string) *gatepass.AuditEvent {
		return &gatepass.AuditEvent{OccurredAt: at, Kind: kind, UserID: alice.ID,
			Username: "alice", SessionID: sid, ClientIP: c.IPAddress,
			UserAgent: c.UserAgent, Reason: reason}
	}
	want := []*gatepass.AuditEvent{
		event(created, gatepass.AuditUserCreated, auth.Client{}, "", ""),
		event(signedIn, gatepass.AuditSignIn, phone, sid, ""),
		event(refreshed, gatepass.AuditRefresh, phone, sid, ""),
		event(replayed, gatepass.AuditRefresh, laptop, sid, "replay"),
		event(reused, gatepass.AuditReuseDetected, thief, sid, gatepass.RevokeReuse),
		event(reused, gatepass.AuditSessionRevoked, thief, sid, gatepass.RevokeReuse),
	}
	got := mustFindEvents(t, env, gatepass.AuditFilter{UserID: &alice.ID})
	if diff := cmp.Diff(got, want, ignoreID); diff != "" {
		t.Errorf("trail (-got +want):\n%s", diff)
	}
}

func TestAudit_failedSignIn(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		name       string
		username   string
		password   string
		wantUser   string // the account whose ID the event carries, if any
		wantName   string
		wantReason string
	}{
		{name: "unknown-user", username: "carol", password: "carol-password",
			wantName: "carol", wantReason: "unknown_user"},
		{name: "long-unknown-name-truncated", username: long, password: "p",
			wantName: long[:64], wantReason: "unknown_user"},
		{name: "wrong-password", username: "alice", password: "Tr0ub4dor&3",
			wantUser: "alice", wantName: "alice", wantReason: "wrong_password"},
		{name: "disabled", username: "bob", password: "bob-password",
			wantUser: "bob", wantName: "bob", wantReason: "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			users := map[string]*gatepass.User{"alice": env.MustCreateUser(t, "alice"),
				"bob": env.MustCreateUser(t, "bob")}
			ctx := context.Background()
			if err := env.Service.SetDisabled(ctx, "bob", true); err != nil {
				t.Fatal(err)
			}
			c := auth.Client{IPAddress: "203.0.113.9", UserAgent: "guesser/0.1"}
			since := env.Clock.Now().Add(time.Second)
			env.Clock.Advance(time.Second)

			_, err := env.Service.Login(ctx, auth.LoginRequest{Username: tt.username,
				Password: tt.password, Client: c})
			if err == nil {
				t.Fatal("sign-in succeeded")
			}

			want := &gatepass.AuditEvent{OccurredAt: since, Kind: gatepass.AuditSignInFailed,
				Username: tt.wantName, ClientIP: c.IPAddress, UserAgent: c.UserAgent,
				Reason: tt.wantReason}
			if u := users[tt.wantUser]; u != nil {
				want.UserID = u.ID
			}
			got := mustFindEvents(t, env, gatepass.AuditFilter{Since: &since})
			if diff := cmp.Diff(got, []*gatepass.AuditEvent{want}, ignoreID); diff != "" {
				t.Errorf("trail (-got +want):\n%s", diff)
			}
		})
	}
}

func TestAudit_revocations(t *testing.T) {
	c := auth.Client{IPAddress: "192.0.2.44", UserAgent: "browser/3"}
	type pairs = []*auth.TokenPair
	tests := []struct {
		name string
		// revoke ends some of alice's two sessions, p[1] the newer.
		revoke func(ctx context.Context, s *auth.Service, p pairs) error
		// want lists the sessions revoked, by index into p, in event order.
		want       []int
		wantReason string
	}{
		{name: "revoke-refresh-token", want: []int{0}, wantReason: gatepass.RevokeLogout,
			revoke: func(ctx context.Context, s *auth.Service, p pairs) error {
				return s.Revoke(ctx, p[0].RefreshToken, "")
			}},
		{name: "user-revokes-own-session", want: []int{0},
			wantReason: gatepass.RevokeLogout,
			revoke: func(ctx context.Context, s *auth.Service, p pairs) error {
				return s.RevokeUserSession(ctx, p[0].UserID, p[0].SessionID)
			}},
		{name: "admin-revokes-session", want: []int{1}, wantReason: gatepass.RevokeAdmin,
			revoke: func(ctx context.Context, s *auth.Service, p pairs) error {
				return s.RevokeSession(ctx, p[1].SessionID, gatepass.RevokeAdmin)
			}},
		{name: "logout-others", want: []int{1}, wantReason: gatepass.RevokeLogout,
			revoke: func(ctx context.Context, s *auth.Service, p pairs) error {
				return logout(ctx, s, p[0], auth.LogoutOthers)
			}},
		{name: "logout-global", want: []int{1, 0}, wantReason: gatepass.RevokeLogout,
			revoke: func(ctx context.Context, s *auth.Service, p pairs) error {
				return logout(ctx, s, p[0], auth.LogoutGlobal)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			alice := env.MustCreateUser(t, "alice")
			p := pairs{env.MustLogin(t, "alice"), env.MustLogin(t, "alice")}
			env.Clock.Advance(time.Minute)

			ctx := auth.NewContextWithClient(context.Background(), c)
			if err := tt.revoke(ctx, env.Service, p); err != nil {
				t.Fatal(err)
			}

			var want []*gatepass.AuditEvent
			for _, i := range tt.want {
				want = append(want, &gatepass.AuditEvent{OccurredAt: env.Clock.Now(),
					Kind: gatepass.AuditSessionRevoked, UserID: alice.ID, Username: "alice",
					SessionID: p[i].SessionID, ClientIP: c.IPAddress, UserAgent: c.UserAgent,
					Reason: tt.wantReason})
			}
			got := userEvents(t, env, alice, gatepass.AuditSessionRevoked)
			if diff := cmp.Diff(got, want, ignoreID); diff != "" {
				t.Errorf("trail (-got +want):\n%s", diff)
			}
			checkRevokedAsRecorded(t, env, got)
		})
	}
}

// TestAudit_revocationsAtOneInstant checks that sessions revoked earlier at
// the same instant and for the same reason are not recorded again by a later
// revocation of the user's sessions.
func TestAudit_revocationsAtOneInstant(t *testing.T) {
	env := MustOpenEnv(t, nil)
	alice := env.MustCreateUser(t, "alice")
	ctx := context.Background()
	first, second := env.MustLogin(t, "alice"), env.MustLogin(t, "alice")
	third := env.MustLogin(t, "alice")

	if err := logout(ctx, env.Service, first, auth.LogoutOthers); err != nil {
		t.Fatal(err)
	}
	if err := logout(ctx, env.Service, first, auth.LogoutGlobal); err != nil {
		t.Fatal(err)
	}

	var got []string
	events := userEvents(t, env, alice, gatepass.AuditSessionRevoked)
	for _, e := range events {
		got = append(got, e.SessionID)
	}
	want := []string{third.SessionID, second.SessionID, first.SessionID}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("revoked sessions in the trail (-got +want):\n%s", diff)
	}
	checkRevokedAsRecorded(t, env, events)
}

// logout signs out with the claims of pair's access token.
func logout(ctx context.Context, s *auth.Service, pair *auth.TokenPair, scope string) error {
	claims, err := s.VerifyAccessToken(pair.AccessToken)
	if err != nil {
		return err
	}
	_, err = s.Logout(ctx, claims, scope)
	return err
}

// checkRevokedAsRecorded checks that the session of every session_revoked
// event is revoked, at the event's time and for its reason.
func checkRevokedAsRecorded(t *testing.T, env *Env, events []*gatepass.AuditEvent) {
	t.Helper()
	for _, e := range events {
		sess := mustFindSession(t, env, e.SessionID)
		if !sess.RevokedAt.Equal(e.OccurredAt) || sess.RevokeReason != e.Reason {
			t.Errorf("session %s revoked at %v for %q; its event says %v for %q",
				e.SessionID, sess.RevokedAt, sess.RevokeReason, e.OccurredAt, e.Reason)
		}
	}
}

func TestAudit_accountChanges(t *testing.T) {
	env := MustOpenEnv(t, nil)
	alice := env.MustCreateUser(t, "alice")
	ctx := context.Background()
	first, second := env.MustLogin(t, "alice"), env.MustLogin(t, "alice")

	env.Clock.Advance(time.Minute)
	changed := env.Clock.Now()
	if err := env.Service.SetPassword(ctx, "alice", "a-new-password"); err != nil {
		t.Fatal(err)
	}
	third, err := env.Service.Login(ctx, auth.LoginRequest{Username: "alice",
		Password: "a-new-password"})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	disabled := env.Clock.Now()
	if err := env.Service.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	enabled := env.Clock.Now()
	if err := env.Service.SetDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}

	event := func(at time.Time, kind, sid, reason string) *gatepass.AuditEvent {
		return &gatepass.AuditEvent{OccurredAt: at, Kind: kind, UserID: alice.ID,
			Username: "alice", SessionID: sid, Reason: reason}
	}
	want := []*gatepass.AuditEvent{
		event(changed, gatepass.AuditPasswordChanged, "", ""),
		event(changed, gatepass.AuditSessionRevoked, second.SessionID, gatepass.RevokePassword),
		event(changed, gatepass.AuditSessionRevoked, first.SessionID, gatepass.RevokePassword),
		event(disabled, gatepass.AuditUserDisabled, "", ""),
		event(disabled, gatepass.AuditSessionRevoked, third.SessionID, gatepass.RevokeDisabled),
		event(enabled, gatepass.AuditUserEnabled, "", ""),
	}
	got := userEvents(t, env, alice, gatepass.AuditPasswordChanged,
		gatepass.AuditSessionRevoked, gatepass.AuditUserDisabled, gatepass.AuditUserEnabled)
	if diff := cmp.Diff(got, want, ignoreID); diff != "" {
		t.Errorf("trail (-got +want):\n%s", diff)
	}
	checkRevokedAsRecorded(t, env, got[1:3])
}

func TestAudit_importIsAllOrNothing(t *testing.T) {
	env := MustOpenEnv(t, nil)
	ctx := context.Background()
	hash := CheapHasher()
	pwHash, err := hash.Hash(ctx, "imported-password")
	if err != nil {
		t.Fatal(err)
	}

	err = env.Service.ImportUsers(ctx, []auth.ImportedUser{
		{Name: "carol", PasswordHash: pwHash}, {Name: "dave", PasswordHash: pwHash}})
	if err != nil {
		t.Fatal(err)
	}
	// A second import with a taken name imports nobody and records nothing.
	err = env.Service.ImportUsers(ctx, []auth.ImportedUser{
		{Name: "erin", PasswordHash: pwHash}, {Name: "carol", PasswordHash: pwHash}})
	if gatepass.ErrorCode(err) != gatepass.ECONFLICT {
		t.Fatalf("import of a taken name: err = %v, want ECONFLICT", err)
	}

	var got []string
	for _, e := range mustFindEvents(t, env, gatepass.AuditFilter{}) {
		if e.Kind == gatepass.AuditUserImported {
			got = append(got, e.Username)
		}
	}
	if diff := cmp.Diff(got, []string{"carol", "dave"}); diff != "" {
		t.Errorf("imported users in the trail (-got +want):\n%s", diff)
	}
}

func TestAudit_keys(t *testing.T) {
	env := MustOpenEnv(t, nil)
	ctx := context.Background()
	first, err := env.Service.FindKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	rotated, err := env.Service.RotateKeys(ctx, "EdDSA")
	if err != nil {
		t.Fatal(err)
	}

	// A server started with another --alg rotates to it.
	env.Clock.Advance(time.Minute)
	changed := MustReopenEnv(t, env.Path, env.Clock, func(c *auth.Config) {
		c.Algorithm = "RS256"
	})
	if err := changed.Service.EnsureAlgorithm(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := changed.Service.FindKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := keys[len(keys)-1]

	start := first[0].CreatedAt
	want := []*gatepass.AuditEvent{
		{OccurredAt: start, Kind: gatepass.AuditKeyCreated,
			Detail: "kid=" + first[0].ID + " alg=ES256"},
		{OccurredAt: start.Add(time.Minute), Kind: gatepass.AuditKeyRotated,
			Detail: "kid=" + rotated.ID + " alg=EdDSA"},
		{OccurredAt: start.Add(2 * time.Minute), Kind: gatepass.AuditKeyRotated,
			Reason: "algorithm_changed", Detail: "kid=" + last.ID + " alg=RS256"},
	}
	got := mustFindEvents(t, changed, gatepass.AuditFilter{})
	if diff := cmp.Diff(got, want, ignoreID); diff != "" {
		t.Errorf("trail (-got +want):\n%s", diff)
	}
}
