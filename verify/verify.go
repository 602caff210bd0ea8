// Package verify checks gatepass access tokens in Go services that serve an API
// (resource servers). Its middleware takes the token from an Authorization: Bearer
// header or the access cookie, verifies it locally with the same code, and so the
// same rules, as the gatepass server, and puts its claims in the request context:
//
//	v, err := verify.New(ctx, "https://id.example.com", "https://api.example.com")
//	if err != nil {
//		return err
//	}
//	defer v.Close()
//	mux.Handle("GET /orders", v.Middleware(listOrders))
//	mux.Handle("POST /orders", v.Middleware(verify.RequireScope("orders")(addOrder)))
//
// Handlers read the claims with ClaimsFrom, Subject, Username and the other
// accessors, or with gatepass.ClaimsFromContext.
//
// By default the keys are fetched from the issuer's JWK Set,
// ISSUER/.well-known/jwks.json. New fetches it once and fails if it cannot, so a
// wrong URL or an unreachable issuer shows at start-up rather than as a 401 on
// every request; start the service after gatepass, or retry New. After that the
// set is fetched again in the background, at the pace its Cache-Control header
// asks, and at once when a token names a key the set lacked, which is how a key
// rotated on the server is picked up without a restart. A failed fetch keeps the
// keys already loaded.
//
// A token seen before is answered from memory, its times checked again, in under
// a microsecond (see WithCache).
//
// Checking tokens locally is what makes them cheap, and it has a price: a token
// whose session was signed out passes until it expires, about 15 minutes at most
// with the server's defaults. Keep access tokens short-lived.
//
// The package imports only the standard library and gatepass's root and token
// packages, so it adds little to a service's build.
package verify

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// Log attribute keys, fixed so that log queries keep working.
const (
	attrReason    = "reason"
	attrClientIP  = "client_ip"
	attrUserAgent = "user_agent"
	attrJWKSURL   = "jwks_url"
	attrJWKSFile  = "jwks_file"
	attrKeyIDs    = "key_ids"
	attrError     = "error"
)

// jwksPath is where gatepass publishes its keys, under the issuer.
const jwksPath = "/.well-known/jwks.json"

// Verifier checks access tokens against the keys of one issuer. It is safe for
// concurrent use. Build one with New, share it, and Close it when done.
type Verifier struct {
	// current verifies tokens and remembers those it accepted. A token.Verifier
	// is immutable, so a new one, with a new cache, is built for every new key
	// set and swapped in whole.
	current atomic.Pointer[keySet]

	issuer   string
	audience string
	opts     options
	origins  *http.CrossOriginProtection
	logger   *slog.Logger

	// remote loads the keys from a URL or a file; nil when they were given.
	remote *remoteKeys
}

// New returns a Verifier for the tokens issuer issues for audience: the "iss"
// claim must equal issuer and the "aud" claim must contain audience, as the
// server's --issuer and --audience flags set them. When the keys come from a
// JWK Set URL, New fetches it before it returns and ctx bounds that fetch.
func New(ctx context.Context, issuer, audience string, opts ...Option) (*Verifier, error) {
	o := options{
		leeway:       defaultLeeway,
		cacheSize:    token.DefaultCacheSize,
		now:          time.Now,
		client:       http.DefaultClient,
		minRefresh:   defaultMinRefresh,
		maxRefresh:   defaultMaxRefresh,
		refetchEvery: defaultRefetchEvery,
		cookieName:   defaultCookieName,
		logger:       slog.Default().With("component", "verify"),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(issuer, audience); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}

	v := &Verifier{issuer: issuer, audience: audience, opts: o, logger: o.logger,
		origins: http.NewCrossOriginProtection()}
	for _, origin := range o.trustedOrigins {
		if err := v.origins.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("verify: trusted origin: %w", err)
		}
	}

	if err := v.loadKeys(ctx); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v, nil
}

// validate checks the settings and names the first one that is wrong. The
// token settings are checked when the first token.Verifier is built.
func (o *options) validate(issuer, audience string) error {
	switch {
	case issuer == "":
		return errors.New("issuer is required")
	case audience == "":
		return errors.New("audience is required")
	case o.sources > 1:
		return errors.New("more than one key source: give one of WithJWKSURL, " +
			"WithJWKSFile and WithKeys")
	case o.minRefresh <= 0 || o.maxRefresh < o.minRefresh:
		return fmt.Errorf("refresh interval: want 0 < shortest <= longest, got %s and %s",
			o.minRefresh, o.maxRefresh)
	case o.refetchEvery <= 0:
		return fmt.Errorf("refetch limit: must be positive, got %s", o.refetchEvery)
	case o.cacheSize < 0:
		return fmt.Errorf("cache size: must be at least 0, got %d", o.cacheSize)
	case o.now == nil || o.client == nil || o.logger == nil:
		return errors.New("nil time func, http client or logger")
	}
	return nil
}

// loadKeys loads the first keys from the configured source and, for a JWK Set
// URL, starts the background refresh.
func (v *Verifier) loadKeys(ctx context.Context) error {
	o := &v.opts
	switch {
	case o.keysGiven:
		return v.install(o.keys)
	case o.jwksFile != "":
		v.remote = newFileKeys(v, o.jwksFile)
		return v.remote.start(ctx)
	}

	rawURL := o.jwksURL
	if rawURL == "" {
		rawURL = strings.TrimSuffix(v.issuer, "/") + jwksPath
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("jwks url: must be an absolute http(s) URL, got %q", rawURL)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		v.logger.Warn("jwks url is not https: whoever can change it in transit "+
			"can forge tokens", attrJWKSURL, u.Redacted())
	}

	v.remote = newRemoteKeys(v, u)
	return v.remote.start(ctx)
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// keySet is the installed keys and the cache of the tokens they verify.
type keySet struct {
	keys   []*token.Key
	tokens *token.Cache
}

// install builds a token.Verifier for keys, with a cache, and swaps it in. The
// accepted algorithms are the configured ones or else those of the keys.
func (v *Verifier) install(keys []*token.Key) error {
	if len(keys) == 0 {
		return errors.New("no usable key")
	}

	// A refresh mostly finds the keys it has: keep the cache then, or every token
	// would be checked in full again after each fetch. Any change starts an empty
	// cache, so no token of a removed key is answered from it.
	if cur := v.current.Load(); cur != nil && sameKeys(cur.keys, keys) {
		return nil
	}

	algs := v.opts.algorithms
	if len(algs) == 0 {
		for _, k := range keys {
			if !slices.Contains(algs, k.Algorithm) {
				algs = append(algs, k.Algorithm)
			}
		}
	}
	tv, err := token.NewVerifier(token.VerifierConfig{
		Keys:       keys,
		Algorithms: algs,
		Issuer:     v.issuer,
		Audience:   v.audience,
		Leeway:     v.opts.leeway,
		Now:        v.opts.now,
	})
	if err != nil {
		return err
	}
	v.current.Store(&keySet{keys: keys, tokens: token.NewCache(tv, v.opts.cacheSize)})
	return nil
}

// sameKeys reports whether a and b are the same public keys, with the same ids
// and algorithms, in the same order. HS256 keys, which have no public half to
// compare, never count as the same; they are only ever installed once anyway.
func sameKeys(a, b []*token.Key) bool {
	return slices.EqualFunc(a, b, func(x, y *token.Key) bool {
		pub, ok := x.Public().(interface{ Equal(crypto.PublicKey) bool })
		return ok && x.ID == y.ID && x.Algorithm == y.Algorithm && pub.Equal(y.Public())
	})
}

// Verify checks an access token as the gatepass server does and returns its
// claims. Every error is one of the token.ErrXxx errors: a *gatepass.Error with
// code EINVALIDTOKEN and a message safe to show to the client.
//
// When the token names a key the Verifier lacks, and the keys come from a JWK
// Set URL, Verify fetches the set again (at most once per refetch limit, shared
// with concurrent callers) and tries once more; ctx bounds the wait.
func (v *Verifier) Verify(ctx context.Context, tok string) (*gatepass.Claims, error) {
	claims, err := v.current.Load().tokens.Verify(tok)
	if err == nil || !v.refetchFor(err) {
		return claims, err
	}

	if !v.remote.refetch(ctx) {
		return nil, err
	}
	return v.current.Load().tokens.Verify(tok)
}

// refetchFor reports whether err may mean that the server has a key the
// Verifier has not seen yet. Unless algorithms were restricted, a token from a
// key of a new algorithm is refused for its algorithm before its key id is
// looked at, so that error counts too. The refetch limit bounds what forged
// tokens can cause either way.
func (v *Verifier) refetchFor(err error) bool {
	if v.remote == nil {
		return false
	}
	return errors.Is(err, token.ErrUnknownKey) ||
		len(v.opts.algorithms) == 0 && errors.Is(err, token.ErrAlgorithm)
}

// Close stops the background refresh of the keys and waits for a fetch in
// progress to end. The Verifier goes on verifying with the keys it has. Close
// always returns nil and may be called more than once.
func (v *Verifier) Close() error {
	if v.remote != nil {
		v.remote.close()
	}
	return nil
}
