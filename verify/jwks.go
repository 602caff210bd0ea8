package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatepass/gatepass/token"
)

// maxJWKSBytes bounds the body of a JWK Set. A gatepass set is a few hundred
// bytes per key; anything near the limit is a mistake or an attack.
const maxJWKSBytes = 1 << 20

// fetchTimeout cuts off one fetch of the JWK Set, whatever the HTTP client does.
const fetchTimeout = 10 * time.Second

// defaultRefresh paces the background refresh of a set served without max-age.
const defaultRefresh = 5 * time.Minute

// maxAgeCap bounds the max-age read from a header, so that no value overflows a
// time.Duration; the refresh interval is bounded far below it anyway.
const maxAgeCap = 30 * 24 * time.Hour

// remoteKeys keeps the keys of a JWK Set URL or file fresh: one load at start,
// a background refresh, and reloads for unknown keys, rate-limited and shared by
// concurrent callers.
type remoteKeys struct {
	v *Verifier

	// get reads and parses the set, and returns its max-age (negative for
	// none); attr and where name the source in the log.
	get         func(ctx context.Context) ([]*token.Key, time.Duration, error)
	attr, where string

	// ctx ends at Close; wg counts the refresh loop and running fetches.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	inflight  *fetch    // the fetch in progress, nil when none
	lastStart time.Time // when the latest fetch began, by the Verifier's clock
	closed    bool
	keyIDs    []string // of the installed set, sorted, to log changes
}

// fetch is one fetch of the JWK Set, shared by everyone who waits for it. Its
// fields are written before done is closed.
type fetch struct {
	done   chan struct{}
	maxAge time.Duration // from Cache-Control; negative when absent
	err    error
}

// newRemoteKeys returns the keeper of the keys of the JWK Set at u.
func newRemoteKeys(v *Verifier, u *url.URL) *remoteKeys {
	ctx, cancel := context.WithCancel(context.Background())
	r := &remoteKeys{v: v, attr: attrJWKSURL, where: u.Redacted(), ctx: ctx,
		cancel: cancel}
	r.get = func(ctx context.Context) ([]*token.Key, time.Duration, error) {
		return getJWKS(ctx, v.opts.client, u)
	}
	return r
}

// newFileKeys returns the keeper of the keys of the JWK Set file at path. A
// file has no max-age, so it is read again at the default pace, within the
// configured bounds, and whenever a token names a key it does not hold.
func newFileKeys(v *Verifier, path string) *remoteKeys {
	ctx, cancel := context.WithCancel(context.Background())
	r := &remoteKeys{v: v, attr: attrJWKSFile, where: path, ctx: ctx, cancel: cancel}
	r.get = func(context.Context) ([]*token.Key, time.Duration, error) {
		keys, err := readJWKSFile(path)
		return keys, -1, err
	}
	return r
}

// start fetches the set on ctx, installs its keys and starts the background
// refresh. It fails if the first fetch does.
func (r *remoteKeys) start(ctx context.Context) error {
	r.lastStart = r.v.opts.now()
	maxAge, err := r.load(ctx)
	if err != nil {
		r.cancel()
		return err
	}

	r.wg.Add(1)
	go r.run(r.interval(maxAge, nil))
	return nil
}

// run refreshes the keys until Close, waiting first for wait.
func (r *remoteKeys) run(wait time.Duration) {
	defer r.wg.Done()
	t := time.NewTimer(wait)
	defer t.Stop()

	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}

		f := r.begin(false)
		if f == nil {
			return // closed
		}
		select {
		case <-r.ctx.Done():
			return
		case <-f.done:
		}
		t.Reset(r.interval(f.maxAge, f.err))
	}
}

// interval is the wait before the next background fetch: the set's max-age,
// the default without one, or the shortest after a failure, always within the
// configured bounds.
func (r *remoteKeys) interval(maxAge time.Duration, err error) time.Duration {
	o := &r.v.opts
	switch {
	case err != nil:
		return o.minRefresh
	case maxAge < 0:
		maxAge = defaultRefresh
	}
	return min(max(maxAge, o.minRefresh), o.maxRefresh)
}

// refetch fetches the set again for a token with an unknown key, or waits for
// the fetch in progress, and reports whether the keys were reloaded. It
// fetches nothing if a fetch began within the refetch limit, so that a flood of
// forged key ids cannot flood the JWKS endpoint in turn.
func (r *remoteKeys) refetch(ctx context.Context) bool {
	f := r.begin(true)
	if f == nil {
		return false
	}
	select {
	case <-f.done:
		return f.err == nil
	case <-ctx.Done():
		return false
	}
}

// begin returns the fetch in progress or starts one. A limited caller gets nil
// when the latest fetch began within the refetch limit; every caller gets nil
// after Close. The fetch runs on the Verifier's own context, so a caller that
// stops waiting cancels it for nobody else.
func (r *remoteKeys) begin(limited bool) *fetch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight
	}
	now := r.v.opts.now()
	if r.closed || limited && now.Sub(r.lastStart) < r.v.opts.refetchEvery {
		return nil
	}

	f := &fetch{done: make(chan struct{})}
	r.inflight, r.lastStart = f, now
	r.wg.Add(1)
	go r.do(f)
	return f
}

// do runs f. A failure keeps the keys in use, and is logged unless Close
// caused it.
func (r *remoteKeys) do(f *fetch) {
	defer r.wg.Done()
	f.maxAge, f.err = r.load(r.ctx)
	if f.err != nil && r.ctx.Err() == nil {
		r.v.logger.Warn("jwks fetch failed", r.attr, r.where, attrError, f.err)
	}

	r.mu.Lock()
	r.inflight = nil
	r.mu.Unlock()
	close(f.done)
}

// load fetches the set and installs its keys. It returns the set's max-age.
func (r *remoteKeys) load(ctx context.Context) (time.Duration, error) {
	keys, maxAge, err := r.get(ctx)
	if err != nil {
		return 0, err
	}
	if err := r.v.install(keys); err != nil {
		return 0, fmt.Errorf("jwks: %w", err)
	}

	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	slices.Sort(ids)
	r.mu.Lock()
	changed := !slices.Equal(ids, r.keyIDs)
	r.keyIDs = ids
	r.mu.Unlock()
	if changed {
		r.v.logger.Info("jwks keys loaded", r.attr, r.where, attrKeyIDs, ids)
	}
	return maxAge, nil
}

// readJWKSFile reads and parses the JWK Set file at path.
func readJWKSFile(path string) ([]*token.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	}
	defer f.Close()
	return parseJWKS(f)
}

// parseJWKS reads a JWK Set of at most maxJWKSBytes from r and parses it.
func parseJWKS(r io.Reader) ([]*token.Key, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	} else if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("read jwks: larger than %d bytes", maxJWKSBytes)
	}
	return token.ParseJWKS(body)
}

// getJWKS fetches and parses the JWK Set at u with client, and returns its
// max-age.
func getJWKS(ctx context.Context, client *http.Client,
	u *url.URL) ([]*token.Key, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("get jwks: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")

	res, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get jwks: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("get jwks: status %d", res.StatusCode)
	}

	keys, err := parseJWKS(res.Body)
	if err != nil {
		return nil, 0, err
	}
	return keys, cacheMaxAge(res.Header), nil
}

// cacheMaxAge returns the max-age of a response's Cache-Control header (RFC 9111
// section 5.2.2.1), zero for no-cache or no-store, and -1 when it names none.
func cacheMaxAge(h http.Header) time.Duration {
	age := time.Duration(-1)
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0
			case "max-age":
				secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
				if err == nil && secs >= 0 {
					secs = min(secs, int64(maxAgeCap/time.Second))
					age = time.Duration(secs) * time.Second
				}
			}
		}
	}
	return age
}

// close stops the refresh loop and waits for it and any fetch to end. No fetch
// starts after it.
func (r *remoteKeys) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()

	r.cancel()
	r.wg.Wait()
}
