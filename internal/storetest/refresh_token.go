package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testCreateRefreshToken checks that FindRefreshToken returns tokens as created,
// found by hash.
func testCreateRefreshToken(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	createSessions(t, s, newSession("s1", alice.ID))
	first := newToken("first", "s1")
	second := newToken("second", "s1")
	second.Generation, second.UsedAt = 1, now.Add(time.Minute)
	createTokens(t, s, first, second)

	view(t, s, func(tx gatepass.Tx) error {
		for _, want := range []*gatepass.RefreshToken{first, second} {
			got, err := tx.FindRefreshToken(t.Context(), want.Hash)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("FindRefreshToken (-got +want):\n%s", diff)
			}
		}
		return nil
	})
}

// testMarkRefreshTokenUsed checks that a token can be marked used once only.
func testMarkRefreshTokenUsed(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	createSessions(t, s, newSession("s1", alice.ID))
	tok := newToken("t1", "s1")
	createTokens(t, s, tok)

	used := now.Add(time.Minute)
	update(t, s, func(tx gatepass.Tx) error {
		return tx.MarkRefreshTokenUsed(ctx, tok.Hash, used)
	})
	tok.UsedAt = used
	checkToken(t, s, tok)

	// A second use is refused and changes nothing.
	err := s.Update(ctx, func(tx gatepass.Tx) error {
		return tx.MarkRefreshTokenUsed(ctx, tok.Hash, used.Add(time.Minute))
	})
	checkCode(t, err, gatepass.ECONFLICT)
	checkToken(t, s, tok)

	// A zero time would leave the token unused, free to be used again.
	unused := newToken("t2", "s1")
	createTokens(t, s, unused)
	err = s.Update(ctx, func(tx gatepass.Tx) error {
		return tx.MarkRefreshTokenUsed(ctx, unused.Hash, time.Time{})
	})
	checkCode(t, err, gatepass.EINVALID)
	checkToken(t, s, unused)
}

// checkToken reports an error unless want is stored as it is.
func checkToken(t *testing.T, s gatepass.Store, want *gatepass.RefreshToken) {
	t.Helper()
	view(t, s, func(tx gatepass.Tx) error {
		got, err := tx.FindRefreshToken(t.Context(), want.Hash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("refresh token (-got +want):\n%s", diff)
		}
		return nil
	})
}
