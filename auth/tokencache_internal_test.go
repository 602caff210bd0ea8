package auth

import (
	"context"
	"testing"
)

// TestReloadKeys_keepsTokenCache checks that a reload that finds the same keys
// keeps the token cache, so that a periodic reload does not make every token
// be checked in full again, and that a reload after a rotation starts a new one.
func TestReloadKeys_keepsTokenCache(t *testing.T) {
	ctx := context.Background()
	s := openInternalService(t)
	before := s.keys.Load().tokens

	if err := s.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.keys.Load().tokens; got != before {
		t.Errorf("cache after a reload with the same keys = %p, want the same %p",
			got, before)
	}

	if _, err := s.RotateKeys(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := s.keys.Load().tokens; got == before {
		t.Error("cache after a rotation is the old one, want a new one")
	}
}
