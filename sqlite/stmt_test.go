package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// TestUpdate_PreparedStatementsSeeOtherWriters checks that the statements an
// Update keeps prepared on the writer connection read the file as it is now:
// a token another handle (another process) marked used is seen as used, and
// cannot be used a second time.
func TestUpdate_PreparedStatementsSeeOtherWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatepass.db")
	server, cli := MustOpenDB(t, path), MustOpenDB(t, path)

	u := newUser("alice")
	created := time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC)
	tok := &gatepass.RefreshToken{Hash: []byte("0123456789abcdef0123456789abcdef"),
		SessionID: "s1", CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	err := server.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		err := tx.CreateSession(ctx, &gatepass.Session{ID: "s1", UserID: u.ID,
			CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, tok)
	})
	if err != nil {
		t.Fatal(err)
	}

	// Read the token through the server's writer often enough that its
	// statements are prepared, then let the other handle use it.
	for range 3 {
		if got := findToken(t, server, tok.Hash); !got.UsedAt.IsZero() {
			t.Fatalf("UsedAt = %v before use, want zero", got.UsedAt)
		}
	}
	used := created.Add(time.Minute)
	err = cli.Update(ctx, func(tx gatepass.Tx) error {
		return tx.MarkRefreshTokenUsed(ctx, tok.Hash, used)
	})
	if err != nil {
		t.Fatal(err)
	}

	want := *tok
	want.UsedAt = used
	if diff := cmp.Diff(findToken(t, server, tok.Hash), &want); diff != "" {
		t.Errorf("FindRefreshToken (-got +want):\n%s", diff)
	}
	err = server.Update(ctx, func(tx gatepass.Tx) error {
		return tx.MarkRefreshTokenUsed(ctx, tok.Hash, used.Add(time.Minute))
	})
	if got := gatepass.ErrorCode(err); got != gatepass.ECONFLICT {
		t.Errorf("second MarkRefreshTokenUsed: code %q (%v), want %q",
			got, err, gatepass.ECONFLICT)
	}
	if diff := cmp.Diff(findToken(t, cli, tok.Hash), &want); diff != "" {
		t.Errorf("after second use (-got +want):\n%s", diff)
	}
}

// findToken reads the token with hash in an Update, through the writer.
func findToken(t *testing.T, db gatepass.Store, hash []byte) *gatepass.RefreshToken {
	t.Helper()
	var got *gatepass.RefreshToken
	err := db.Update(t.Context(), func(tx gatepass.Tx) error {
		var err error
		got, err = tx.FindRefreshToken(t.Context(), hash)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}
