package auth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepass/gatepass"
)

// ErrTokenRevoked is returned by VerifyAccessToken, when Config.RevocationCheck is
// on, for an access token whose session has been revoked. Like the token package's
// errors it has code EINVALIDTOKEN, so the HTTP layer answers 401 invalid_token.
var ErrTokenRevoked = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
	Message: "token has been revoked"}

// RevocationObserver is an Observer that is also told about the revocation check.
// When the service's Observer implements it, these methods are called as well;
// the same rules apply: fast, non-blocking, safe for concurrent use.
type RevocationObserver interface {
	// AccessTokenRevoked reports an access token refused because its session
	// was revoked.
	AccessTokenRevoked()

	// RevocationPoll reports a poll of the store for revoked sessions:
	// OutcomeSuccess, or a failure such as OutcomeUnavailable or OutcomeError.
	RevocationPoll(outcome string)
}

// Log attribute keys of the revocation check.
const (
	attrInterval = "interval"
	attrFailures = "failures"
)

const (
	// revocationCommitWindow is how long after taking its revoked_at a revocation
	// transaction may take to commit and still be found by the next poll: lock
	// waits, a slow disk, a busy database. Polls look back this much further
	// than the clock leeway.
	revocationCommitWindow = 10 * time.Second

	// revocationResync is how often a poll reads every revocation whose tokens
	// may still be alive instead of the recent ones, so that a revocation that
	// committed even later than revocationCommitWindow is refused within it.
	revocationResync = time.Minute

	// revocationStalePolls is how many poll intervals may pass without a
	// successful poll before Ready reports the instance as not ready.
	revocationStalePolls = 20

	// revocationLogEvery is how often a poll failure that goes on is logged again.
	revocationLogEvery = time.Minute
)

// revocationList is the set of sessions, revoked recently, whose access tokens
// VerifyAccessToken refuses. Each entry maps a session id to the time after which
// no access token of the session can be valid; entries are swept after it.
//
// Reads happen on every verified request, so the set is a sync.Map: a lookup takes
// no lock, and an entry is written once and then only read, the case the map is
// built for. A copy-on-write map would make every local revocation copy the whole
// set, which an attack setting off reuse detection in bulk could make large.
type revocationList struct {
	sessions sync.Map // session id → time.Time
	size     atomic.Int64

	// polled is when the last successful poll began, in Unix nanoseconds on the
	// service's clock; Ready reads it without waiting for a running poll.
	polled atomic.Int64

	// mu serialises polls; local additions do not take it.
	mu       sync.Mutex
	synced   time.Time // when the last full load began
	failing  int       // polls failed in a row
	loggedAt time.Time // when the last failure was logged
}

// revoked reports whether the access tokens of session sid are refused.
func (l *revocationList) revoked(sid string) bool {
	if l.size.Load() == 0 {
		return false
	}
	_, ok := l.sessions.Load(sid)
	return ok
}

// add refuses the tokens of session sid until until, and reports whether the
// session is new to the list. An entry already there is kept: every entry's time
// is a safe bound, and they differ by moments.
func (l *revocationList) add(sid string, until time.Time) bool {
	// Count first, so that revoked never sees the entry but not the count.
	l.size.Add(1)
	if _, loaded := l.sessions.LoadOrStore(sid, until); loaded {
		l.size.Add(-1)
		return false
	}
	return true
}

// sweep removes the entries that are useless at now and returns how many remain.
func (l *revocationList) sweep(now time.Time) int64 {
	l.sessions.Range(func(k, v any) bool {
		if !now.Before(v.(time.Time)) {
			if _, ok := l.sessions.LoadAndDelete(k); ok {
				l.size.Add(-1)
			}
		}
		return true
	})
	return l.size.Load()
}

// revocationMargin is how far before the start of the last successful poll the
// next one looks: a revocation committed after that poll read the store has a
// revoked_at no older than this, as long as its instance's clock is within Leeway
// of this one's and the transaction committed within revocationCommitWindow.
// Counting back from this instance's poll time, rather than from the newest
// revoked_at seen, keeps an instance whose clock runs ahead from pushing the
// bound into the future, and the window small when revocations are rare.
func (c Config) revocationMargin() time.Duration {
	return c.Leeway + revocationCommitWindow
}

// revocationWindow is how long after its revoked_at an entry is kept. A token of
// the session issued by a rotation that committed just before the revocation can
// carry an iat up to the margin later (the revocation waited for the rotation's
// lock, on a clock up to Leeway behind), and verifies until its exp plus Leeway.
func (c Config) revocationWindow() time.Duration {
	return c.AccessTTL + c.Leeway + c.revocationMargin()
}

// openRevocations sets up the revocation list, when the check is on, with every
// session revoked within the window: the tokens of any of them may still be alive.
func (s *Service) openRevocations(ctx context.Context) error {
	if !s.cfg.RevocationCheck {
		return nil
	}
	s.revocations = &revocationList{}
	if err := s.PollRevocations(ctx); err != nil {
		return fmt.Errorf("load revoked sessions: %w", err)
	}
	s.Logger.Info("revocation check on", attrSessions, s.revocations.size.Load(),
		attrInterval, s.cfg.RevocationPollInterval)
	return nil
}

// PollRevocations reads the sessions revoked since shortly before the last poll
// into the revocation list, and sweeps entries no token can need any more. Run
// calls it every Config.RevocationPollInterval; programs that do not call Run may
// call it themselves. It does nothing when Config.RevocationCheck is off.
//
// When the store fails, the list keeps every revocation it knew and the error is
// returned: verification fails open, accepting tokens of sessions revoked on other
// instances meanwhile until they expire, as it would without the check. Ready
// reports the list as stale once polls have failed for a while.
func (s *Service) PollRevocations(ctx context.Context) error {
	l := s.revocations
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	// Read every revocation that can matter now and then, and whenever the clock
	// has gone back; otherwise those since shortly before the last poll.
	now := s.now()
	since := now.Add(-s.cfg.revocationWindow())
	polled := time.Unix(0, l.polled.Load())
	full := now.Sub(l.synced) >= revocationResync || now.Before(polled)
	if !full {
		since = maxTime(since, polled.Add(-s.cfg.revocationMargin()))
	}

	var found []gatepass.RevokedSession
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		found, err = tx.FindSessionsRevokedSince(ctx, since)
		return err
	})
	if err != nil {
		s.revocationPolled(failureOutcome(err, OutcomeError))
		return err
	}

	added := 0
	for _, r := range found {
		if l.add(r.ID, r.RevokedAt.Add(s.cfg.revocationWindow())) {
			added++
		}
	}
	size := l.sweep(now)
	l.polled.Store(now.UnixNano())
	if full {
		l.synced = now
	}
	s.revocationPolled(OutcomeSuccess)
	if added > 0 {
		s.Logger.Debug("revoked sessions loaded", attrCount, added, attrSessions, size)
	}
	return nil
}

// revocationPolled reports the outcome of a poll to the Observer.
func (s *Service) revocationPolled(outcome string) {
	if o, ok := s.Observer.(RevocationObserver); ok {
		o.RevocationPoll(outcome)
	}
}

// pollRevocations polls every Config.RevocationPollInterval until ctx ends. It
// runs beside Run's other work, so a long prune never delays a poll.
func (s *Service) pollRevocations(ctx context.Context) {
	tick := time.NewTicker(s.cfg.RevocationPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			err := s.PollRevocations(ctx)
			if ctx.Err() == nil {
				s.logPoll(err)
			}
		}
	}
}

// logPoll logs a failed poll at Error, and again every revocationLogEvery while
// polls keep failing, so that a database outage does not flood the log; and the
// recovery once a poll succeeds.
func (s *Service) logPoll(err error) {
	l := s.revocations
	l.mu.Lock()
	defer l.mu.Unlock()

	now := s.now()
	switch {
	case err == nil && l.failing > 0:
		s.Logger.Info("revocation poll recovered", attrFailures, l.failing)
		l.failing = 0
	case err != nil:
		l.failing++
		if l.failing == 1 || now.Sub(l.loggedAt) >= revocationLogEvery {
			s.Logger.Error("revocation poll failed", attrError, err,
				attrFailures, l.failing)
			l.loggedAt = now
		}
	}
}

// revocationsReady reports an error when the check is on and no poll has
// succeeded for revocationStalePolls intervals: this instance may be accepting
// tokens that every other instance refuses.
func (s *Service) revocationsReady() error {
	l := s.revocations
	if l == nil {
		return nil
	}
	stale := time.Duration(revocationStalePolls) * s.cfg.RevocationPollInterval
	if s.now().Sub(time.Unix(0, l.polled.Load())) > stale {
		return gatepass.Errorf(gatepass.EUNAVAILABLE, "revocation list is stale")
	}
	return nil
}

// RevokedSessions returns how many sessions the revocation list holds: those
// revoked recently enough that their access tokens may still be alive. It is 0
// when Config.RevocationCheck is off.
func (s *Service) RevokedSessions() int {
	if s.revocations == nil {
		return 0
	}
	return int(s.revocations.size.Load())
}

// checkRevoked returns ErrTokenRevoked when the session of c is in the
// revocation list.
func (s *Service) checkRevoked(c *gatepass.Claims) error {
	if s.revocations == nil || !s.revocations.revoked(c.SessionID) {
		return nil
	}
	if o, ok := s.Observer.(RevocationObserver); ok {
		o.AccessTokenRevoked()
	}
	return ErrTokenRevoked
}

// revokedTx lists, inside a transaction that has just revoked sessions at at, the
// sessions revoked from then on, so that noteRevoked can refuse their tokens as
// soon as it commits. Without the check it reads nothing.
func (s *Service) revokedTx(ctx context.Context, tx gatepass.Tx,
	at time.Time) ([]string, error) {
	if s.revocations == nil {
		return nil, nil
	}
	found, err := tx.FindSessionsRevokedSince(ctx, at)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(found))
	for _, r := range found {
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// noteRevoked refuses at once the tokens of sessions this instance has just
// revoked, once the revocation has committed, instead of at the next poll.
func (s *Service) noteRevoked(ids ...string) {
	if s.revocations == nil {
		return
	}
	until := s.now().Add(s.cfg.revocationWindow())
	for _, id := range ids {
		s.revocations.add(id, until)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
