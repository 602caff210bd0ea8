package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatepass/gatepass"
)

// pruneBatch is how many rows per table one prune transaction deletes at most, so a
// large backlog never holds the write lock for long: on SQLite a batch takes tens of
// milliseconds, where 5,000 rows took half a second and stalled every sign-in and
// refresh queued behind it.
const pruneBatch = 500

// Prune deletes expired refresh tokens and sessions, sessions revoked longer ago
// than the retention, retired keys no token can still need, and audit events
// older than Config.AuditRetention. It works in short batches until nothing is
// left.
//
// Audit events go last, in transactions of their own: a database role that may
// not delete them fails only that part, which is returned as an error after
// the rest is done.
func (s *Service) Prune(ctx context.Context) (gatepass.PruneResult, error) {
	now := s.now()
	total, err := s.pruneBatches(ctx, gatepass.PruneFilter{
		ExpiredBefore: now.Add(-s.cfg.Leeway),
		RevokedBefore: now.Add(-s.cfg.RevokedRetention),
		KeysRetiredBefore: now.Add(-s.cfg.KeyReloadInterval - s.cfg.AccessTTL -
			s.cfg.Leeway),
		Limit: pruneBatch,
	})
	if err != nil {
		return total, err
	}

	if s.cfg.AuditRetention > 0 {
		r, err := s.pruneBatches(ctx, gatepass.PruneFilter{
			AuditBefore: now.Add(-s.cfg.AuditRetention), Limit: pruneBatch})
		total.AuditEvents = r.AuditEvents
		if err != nil {
			return total, fmt.Errorf("prune audit events: %w", err)
		}
	}

	s.Logger.Info("pruned", attrSessions, total.Sessions, attrRefreshTokens,
		total.RefreshTokens, attrKeys, total.Keys, attrAuditEvents, total.AuditEvents)
	return total, nil
}

// pruneBatches runs Tx.Prune with filter, one batch per transaction, until a
// batch deletes less than a full batch of every kind.
func (s *Service) pruneBatches(ctx context.Context,
	filter gatepass.PruneFilter) (gatepass.PruneResult, error) {
	var total gatepass.PruneResult
	for {
		start := time.Now()
		var r gatepass.PruneResult
		err := s.store.Update(ctx, func(tx gatepass.Tx) error {
			var err error
			r, err = tx.Prune(ctx, filter)
			return err
		})
		if err != nil {
			return total, err
		}

		total.Sessions += r.Sessions
		total.RefreshTokens += r.RefreshTokens
		total.Keys += r.Keys
		total.AuditEvents += r.AuditEvents
		if r.Sessions < pruneBatch && r.RefreshTokens < pruneBatch && r.Keys < pruneBatch &&
			r.AuditEvents < pruneBatch {
			return total, nil
		}

		// Rest as long as the batch took, so the writers queued behind it take the
		// write lock before the next batch does: a backlog is cleared at half
		// speed, and no request waits behind more than one batch.
		if err := sleep(ctx, time.Since(start)); err != nil {
			return total, err
		}
	}
}

// sleep waits for d or until ctx ends, and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run does the service's background work until ctx ends: it prunes every
// pruneEvery and reloads the signing keys every Config.KeyReloadInterval, so a key
// rotated by another process is in use here within that interval. With
// Config.RevocationCheck on it also polls for revoked sessions, in a goroutine of
// its own that Run waits for before it returns.
func (s *Service) Run(ctx context.Context, pruneEvery time.Duration) {
	if s.revocations != nil {
		var polling sync.WaitGroup
		polling.Go(func() { s.pollRevocations(ctx) })
		defer polling.Wait()
	}

	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	reload := time.NewTicker(s.cfg.KeyReloadInterval)
	defer reload.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("prune failed", attrError, err)
			}
		case <-reload.C:
			if err := s.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("key reload failed", attrError, err)
			}
		}
	}
}
