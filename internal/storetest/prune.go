package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatepass/gatepass"
)

// testPruneExpired checks the ExpiredBefore rule: expired refresh tokens and
// expired sessions go, the latter with all their tokens, and all are counted.
func testPruneExpired(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	live := newSession("live", alice.ID)
	expired := newSession("expired", alice.ID)
	expired.ExpiresAt = now.Add(-time.Minute)
	createSessions(t, s, live, expired)

	old := newToken("old", "live")
	old.ExpiresAt = now.Add(-time.Second)
	edge := newToken("edge", "live")
	edge.ExpiresAt = now
	orphanOld := newToken("orphan-old", "expired")
	orphanOld.ExpiresAt = now.Add(-time.Hour)
	createTokens(t, s, old, edge, newToken("new", "live"), newToken("orphan-new", "expired"),
		orphanOld)
	retired := newKey("retired", now.Add(-48*time.Hour))
	retired.RetiredAt = now.Add(-24 * time.Hour)
	createKeys(t, s, retired)

	got := prune(t, s, gatepass.PruneFilter{ExpiredBefore: now})
	want := gatepass.PruneResult{Sessions: 1, RefreshTokens: 3}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Prune (-got +want):\n%s", diff)
	}
	tokens := []string{"old", "edge", "new", "orphan-new", "orphan-old"}
	checkRemaining(t, s, tokens, stored{
		Tokens:   []string{"edge", "new"},
		Sessions: []string{"live"},
		Keys:     []string{"retired"},
	})
}

// testPruneRevoked checks the RevokedBefore rule: sessions revoked before it go,
// with their refresh tokens; expiry plays no part.
func testPruneRevoked(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	oldRevoked := newSession("old-revoked", alice.ID)
	oldRevoked.RevokedAt = now.Add(-time.Hour)
	edgeRevoked := newSession("edge-revoked", alice.ID)
	edgeRevoked.RevokedAt = now
	expired := newSession("expired", alice.ID)
	expired.ExpiresAt = now.Add(-time.Hour)
	createSessions(t, s, oldRevoked, edgeRevoked, expired, newSession("live", alice.ID))

	expiredToken := newToken("expired-token", "live")
	expiredToken.ExpiresAt = now.Add(-time.Hour)
	createTokens(t, s, newToken("a", "old-revoked"), newToken("b", "edge-revoked"),
		newToken("c", "expired"), newToken("d", "live"), expiredToken)

	got := prune(t, s, gatepass.PruneFilter{RevokedBefore: now})
	want := gatepass.PruneResult{Sessions: 1, RefreshTokens: 1}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Prune (-got +want):\n%s", diff)
	}
	tokens := []string{"a", "b", "c", "d", "expired-token"}
	checkRemaining(t, s, tokens, stored{
		Tokens:   []string{"b", "c", "d", "expired-token"},
		Sessions: []string{"edge-revoked", "expired", "live"},
	})
}

// testPruneKeys checks the KeysRetiredBefore rule, and that it never deletes the
// current key.
func testPruneKeys(t *testing.T, s gatepass.Store) {
	old := newKey("old", now.Add(-72*time.Hour))
	old.RetiredAt = now.Add(-time.Hour)
	edge := newKey("edge", now.Add(-48*time.Hour))
	edge.RetiredAt = now
	createKeys(t, s, old, edge, newKey("current", now.Add(-24*time.Hour)))

	got := prune(t, s, gatepass.PruneFilter{KeysRetiredBefore: now})
	if diff := cmp.Diff(got, gatepass.PruneResult{Keys: 1}); diff != "" {
		t.Errorf("Prune (-got +want):\n%s", diff)
	}
	checkRemaining(t, s, nil, stored{Keys: []string{"current", "edge"}})

	got = prune(t, s, gatepass.PruneFilter{KeysRetiredBefore: now.AddDate(100, 0, 0)})
	if diff := cmp.Diff(got, gatepass.PruneResult{Keys: 1}); diff != "" {
		t.Errorf("Prune far ahead (-got +want):\n%s", diff)
	}
	checkRemaining(t, s, nil, stored{Keys: []string{"current"}})
}

// testPruneZeroFilter checks that a zero time turns its rule off: with no times
// set, Prune deletes nothing, however old the rows.
func testPruneZeroFilter(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	expired := newSession("expired", alice.ID)
	expired.ExpiresAt = now.AddDate(-1, 0, 0)
	revoked := newSession("revoked", alice.ID)
	revoked.RevokedAt = now.AddDate(-1, 0, 0)
	createSessions(t, s, expired, revoked)
	tok := newToken("t", "revoked")
	tok.ExpiresAt = now.AddDate(-1, 0, 0)
	createTokens(t, s, tok)
	key := newKey("k", now.AddDate(-2, 0, 0))
	key.RetiredAt = now.AddDate(-1, 0, 0)
	createKeys(t, s, key)

	for _, filter := range []gatepass.PruneFilter{{}, {Limit: 1}} {
		got := prune(t, s, filter)
		if diff := cmp.Diff(got, gatepass.PruneResult{}); diff != "" {
			t.Errorf("Prune(%+v) (-got +want):\n%s", filter, diff)
		}
	}
	checkRemaining(t, s, []string{"t"}, stored{
		Tokens:   []string{"t"},
		Sessions: []string{"expired", "revoked"},
		Keys:     []string{"k"},
	})
}

// testPruneLimit checks that Limit caps the rows deleted from each table in one
// call, so repeated calls remove a backlog in steps.
func testPruneLimit(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	createSessions(t, s, newSession("live", alice.ID))
	createKeys(t, s, newKey("current", now))
	var tokens []string
	for i := range 5 {
		tokens = append(tokens, fmt.Sprint("t", i))
		tok := newToken(tokens[i], "live")
		tok.ExpiresAt = now.Add(-time.Hour)
		createTokens(t, s, tok)
	}
	for i := range 3 {
		sess := newSession(fmt.Sprint("s", i), alice.ID)
		sess.ExpiresAt = now.Add(-time.Hour)
		key := newKey(fmt.Sprint("k", i), now.Add(-72*time.Hour))
		key.RetiredAt = now.Add(-time.Hour)
		createSessions(t, s, sess)
		createKeys(t, s, key)
	}

	filter := gatepass.PruneFilter{ExpiredBefore: now, KeysRetiredBefore: now, Limit: 2}
	var got []gatepass.PruneResult
	for range 4 {
		got = append(got, prune(t, s, filter))
	}
	want := []gatepass.PruneResult{
		{Sessions: 2, RefreshTokens: 2, Keys: 2},
		{Sessions: 1, RefreshTokens: 2, Keys: 1},
		{RefreshTokens: 1},
		{},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Prune results (-got +want):\n%s", diff)
	}
	checkRemaining(t, s, tokens, stored{Sessions: []string{"live"}, Keys: []string{"current"}})
}

// prune runs Prune in an Update transaction.
func prune(t *testing.T, s gatepass.Store, filter gatepass.PruneFilter) gatepass.PruneResult {
	t.Helper()
	var result gatepass.PruneResult
	update(t, s, func(tx gatepass.Tx) (err error) {
		result, err = tx.Prune(t.Context(), filter)
		return err
	})
	return result
}

// stored names rows in the store: refresh tokens by value, sessions and keys by
// ID, each list sorted.
type stored struct {
	Tokens   []string
	Sessions []string
	Keys     []string
}

// checkRemaining reports an error unless the store holds exactly the sessions and
// keys of want and, of the refresh tokens whose values are tokens, exactly those
// of want.
func checkRemaining(t *testing.T, s gatepass.Store, tokens []string, want stored) {
	t.Helper()

	var got stored
	view(t, s, func(tx gatepass.Tx) error {
		ctx := t.Context()
		for _, value := range tokens {
			_, err := tx.FindRefreshToken(ctx, hash(value))
			if err == nil {
				got.Tokens = append(got.Tokens, value)
			} else if gatepass.ErrorCode(err) != gatepass.ENOTFOUND {
				return err
			}
		}

		sessions, err := tx.FindSessions(ctx, gatepass.SessionFilter{})
		if err != nil {
			return err
		}
		for _, sess := range sessions {
			got.Sessions = append(got.Sessions, sess.ID)
		}

		keys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			got.Keys = append(got.Keys, k.ID)
		}
		return nil
	})

	slices.Sort(got.Tokens)
	slices.Sort(got.Sessions)
	slices.Sort(got.Keys)
	if diff := cmp.Diff(got, want, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("stored rows (-got +want):\n%s", diff)
	}
}
