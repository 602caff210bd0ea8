package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gatepass/gatepass"
)

// testConcurrentKeyCreation runs what every instance does at start, at once: under
// LockKeys, create a signing key unless a current one exists. Exactly one key may
// result, or instances would sign with different keys.
func testConcurrentKeyCreation(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	const n = 8

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx gatepass.Tx) error {
				if err := tx.LockKeys(ctx); err != nil {
					return err
				}
				keys, err := tx.FindKeys(ctx)
				if err != nil {
					return err
				}
				for _, k := range keys {
					if k.Current() {
						return nil
					}
				}
				return tx.CreateKey(ctx, newKey(fmt.Sprintf("k%d", i), now))
			})
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	var keys []*gatepass.SigningKey
	view(t, s, func(tx gatepass.Tx) error {
		var err error
		keys, err = tx.FindKeys(ctx)
		return err
	})
	if len(keys) != 1 {
		t.Errorf("%d keys after %d concurrent starts, want 1", len(keys), n)
	}
}
