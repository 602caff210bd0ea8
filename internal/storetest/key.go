package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatepass/gatepass"
)

// testKeys checks that FindKeys returns every key, oldest first.
func testKeys(t *testing.T, s gatepass.Store) {
	checkKeys(t, s) // none yet

	newer := newKey("newer", now)
	older := newKey("older", now.Add(-24*time.Hour))
	older.Algorithm, older.RetiredAt = "HS256", now.Add(-time.Hour)
	createKeys(t, s, newer, older)
	checkKeys(t, s, older, newer)
}

// testRetireKeys checks that RetireKeys retires every current key, leaves earlier
// retirements alone, and that a key created afterwards is the only current one.
func testRetireKeys(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	k1 := newKey("k1", now.Add(-72*time.Hour))
	k1.RetiredAt = now.Add(-48 * time.Hour)
	k2 := newKey("k2", now.Add(-48*time.Hour))
	k3 := newKey("k3", now.Add(-24*time.Hour))
	createKeys(t, s, k1, k2, k3)

	update(t, s, func(tx gatepass.Tx) error { return tx.RetireKeys(ctx, now) })
	k2.RetiredAt, k3.RetiredAt = now, now
	checkKeys(t, s, k1, k2, k3)

	// After a rotation exactly one key is current.
	k4 := newKey("k4", now)
	createKeys(t, s, k4)
	view(t, s, func(tx gatepass.Tx) error {
		keys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		}
		var current []string
		for _, k := range keys {
			if k.Current() {
				current = append(current, k.ID)
			}
		}
		if diff := cmp.Diff(current, []string{"k4"}); diff != "" {
			t.Errorf("current keys (-got +want):\n%s", diff)
		}
		return nil
	})

	// A zero time would leave the keys current.
	err := s.Update(ctx, func(tx gatepass.Tx) error { return tx.RetireKeys(ctx, time.Time{}) })
	checkCode(t, err, gatepass.EINVALID)
	checkKeys(t, s, k1, k2, k3, k4)
}

// checkKeys reports an error unless FindKeys returns want.
func checkKeys(t *testing.T, s gatepass.Store, want ...*gatepass.SigningKey) {
	t.Helper()
	view(t, s, func(tx gatepass.Tx) error {
		got, err := tx.FindKeys(t.Context())
		if err != nil {
			return err
		}
		if diff := cmp.Diff(got, want, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("FindKeys (-got +want):\n%s", diff)
		}
		return nil
	})
}

// testSecrets checks that a secret reads back as stored.
func testSecrets(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	want := []byte{0x00, 0xff, 0x10, 0x80, 0x7f}
	update(t, s, func(tx gatepass.Tx) error { return tx.CreateSecret(ctx, "hmac", want) })
	view(t, s, func(tx gatepass.Tx) error {
		got, err := tx.FindSecret(ctx, "hmac")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("FindSecret (-got +want):\n%s", diff)
		}
		return nil
	})
}
