package storetest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gatepass/gatepass"
)

// TakingTurns returns a store that sends each transaction to the next of two
// stores on the same database, standing in for two processes or instances. Run
// the suite on it to check that nothing relies on state kept in one handle.
func TakingTurns(a, b gatepass.Store) gatepass.Store {
	return &takingTurns{stores: [2]gatepass.Store{a, b}}
}

type takingTurns struct {
	stores [2]gatepass.Store
	next   atomic.Uint32
}

func (s *takingTurns) store() gatepass.Store {
	return s.stores[s.next.Add(1)%2]
}

func (s *takingTurns) Update(ctx context.Context, fn func(gatepass.Tx) error) error {
	return s.store().Update(ctx, fn)
}

func (s *takingTurns) View(ctx context.Context, fn func(gatepass.Tx) error) error {
	return s.store().View(ctx, fn)
}

func (s *takingTurns) FindSessionWithUser(ctx context.Context,
	id string) (*gatepass.Session, *gatepass.User, error) {
	return s.store().FindSessionWithUser(ctx, id)
}

func (s *takingTurns) Ping(ctx context.Context) error {
	return errors.Join(s.stores[0].Ping(ctx), s.stores[1].Ping(ctx))
}

func (s *takingTurns) Close() error {
	return errors.Join(s.stores[0].Close(), s.stores[1].Close())
}
