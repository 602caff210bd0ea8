package verify

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// Option changes how a Verifier is built. Pass options to New.
type Option func(*options)

// options are the settings New resolves before it builds a Verifier.
type options struct {
	// Key sources; New accepts at most one.
	jwksURL   string
	jwksFile  string
	keys      []*token.Key
	keysGiven bool
	sources   int

	algorithms []string
	leeway     time.Duration
	now        func() time.Time
	cacheSize  int

	client       *http.Client
	minRefresh   time.Duration
	maxRefresh   time.Duration
	refetchEvery time.Duration

	cookieName     string
	csrfCookieName string
	trustedOrigins []string
	errorHandler   ErrorHandler
	logger         *slog.Logger
}

// Defaults. The leeway is the server's, so both judge a token alike.
const (
	defaultLeeway       = 30 * time.Second
	defaultMinRefresh   = time.Minute
	defaultMaxRefresh   = time.Hour
	defaultRefetchEvery = 10 * time.Second
)

// defaultCookieName is the access cookie a server with secure cookies sets.
const defaultCookieName = "__Host-" + gatepass.AccessCookieName

// WithJWKSURL fetches the keys from the JWK Set at url, keeps them fresh in the
// background and fetches them again when a token names a key the set lacks. The
// default is the issuer's own set, at ISSUER/.well-known/jwks.json. Use https
// beyond a single machine: whoever can change the keys in transit can forge
// tokens.
func WithJWKSURL(url string) Option {
	return func(o *options) {
		if o.jwksURL == "" {
			o.sources++
		}
		o.jwksURL = url
	}
}

// WithJWKSFile reads the keys from a JWK Set file: in New, which fails if it
// cannot, then again every few minutes (at the pace of WithRefreshInterval) and
// when a token names a key the file did not hold (at most once per
// WithRefetchLimit). A file that cannot be read or parsed later keeps the keys
// in use. Something must write the file anew when gatepass rotates its keys,
// so prefer WithJWKSURL unless the service cannot reach gatepass.
func WithJWKSFile(path string) Option {
	return func(o *options) {
		if o.jwksFile == "" {
			o.sources++
		}
		o.jwksFile = path
	}
}

// WithKeys verifies with the given keys and never fetches any. Keys parsed with
// token.ParseJWKS or token.ParseKey both work; an HS256 key is the secret shared
// with the server.
func WithKeys(keys ...*token.Key) Option {
	return func(o *options) {
		o.keys = append(o.keys, keys...)
		if !o.keysGiven {
			o.keysGiven = true
			o.sources++
		}
	}
}

// WithAlgorithms restricts the accepted signing algorithms (token.ES256, ...).
// By default a token may use the algorithm of any loaded key; a token's "alg"
// must always be that of the key its "kid" names (RFC 8725 section 3.1).
func WithAlgorithms(algs ...string) Option {
	return func(o *options) {
		o.algorithms = append(o.algorithms, algs...)
	}
}

// WithLeeway sets the clock skew tolerated on the exp, nbf and iat claims. The
// default, 30 seconds, is the server's.
func WithLeeway(d time.Duration) Option {
	return func(o *options) {
		o.leeway = d
	}
}

// WithCache sets how many verified tokens the Verifier remembers, so that a token
// seen before is accepted without checking its signature again: under a
// microsecond instead of tens of microseconds for ES256. Its exp, nbf and iat are
// still checked on every call, and tokens that fail are never remembered. New
// keys start an empty cache, so a token of a key that left the JWK Set is
// refused at once. The default, token.DefaultCacheSize (10,000 tokens), takes at
// most about 10 MiB; 0 turns the cache off.
func WithCache(size int) Option {
	return func(o *options) {
		o.cacheSize = size
	}
}

// WithTimeFunc sets the clock that judges token lifetimes and paces the fetches a
// token with an unknown key may cause. The default is time.Now.
func WithTimeFunc(now func() time.Time) Option {
	return func(o *options) {
		o.now = now
	}
}

// WithHTTPClient sets the client that fetches the JWK Set; the default is
// http.DefaultClient. Each fetch is cut off after 10 seconds regardless.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		o.client = c
	}
}

// WithRefreshInterval bounds how often the JWK Set is fetched in the background.
// The pace is the max-age of the set's Cache-Control header, held between
// shortest and longest; a set without one is fetched every 5 minutes, held alike,
// and a failed fetch is retried after shortest. The defaults are 1 minute and 1
// hour.
func WithRefreshInterval(shortest, longest time.Duration) Option {
	return func(o *options) {
		o.minRefresh, o.maxRefresh = shortest, longest
	}
}

// WithRefetchLimit sets how often, at most, a token naming an unknown key may
// cause the JWK Set to be fetched; the default is once every 10 seconds. Any
// fetch counts, and concurrent requests share one, so a flood of forged key ids
// costs the JWKS endpoint one request per period.
func WithRefetchLimit(every time.Duration) Option {
	return func(o *options) {
		o.refetchEvery = every
	}
}

// WithCookieName sets the name of the access cookie the middleware reads when a
// request has no bearer token. The default, "__Host-gatepass_access", is the
// server's over https; a server run with --insecure-cookies uses
// gatepass.AccessCookieName. An empty name turns cookies off: only bearer tokens
// are read, and no request can be forged through a cookie.
func WithCookieName(name string) Option {
	return func(o *options) {
		o.cookieName = name
	}
}

// WithCSRFCookie also requires, of a request the access cookie authenticates
// whose method is not GET, HEAD or OPTIONS, an X-CSRF-Token header equal to the
// cookie of this name: the double-submit token the server sets beside the
// access cookie, "__Host-gatepass_csrf" over https and gatepass.CSRFCookieName
// with --insecure-cookies. The server's own cookie endpoints and its
// forward-auth require the same, so pages already send it; a request without it
// is refused with ErrCSRFToken. It protects the users of browsers that send
// neither Origin nor Sec-Fetch-Site, which the origin check lets through. The
// default, "", checks the origin alone.
func WithCSRFCookie(name string) Option {
	return func(o *options) {
		o.csrfCookieName = name
	}
}

// WithTrustedOrigins lets pages on the given origins ("https://app.example.com")
// make cookie-authenticated state changes, such as a POST, which the middleware
// refuses from any other site (see Verifier.Middleware).
func WithTrustedOrigins(origins ...string) Option {
	return func(o *options) {
		o.trustedOrigins = append(o.trustedOrigins, origins...)
	}
}

// WithErrorHandler replaces the answer the middleware gives a refused request.
// The handler receives ErrNoToken, ErrCrossOrigin, ErrCSRFToken or one of the
// token.ErrXxx errors, and must write a response.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) {
		o.errorHandler = h
	}
}

// WithLogger sets the logger for rejected tokens (Debug), refused cross-origin
// requests and failed JWKS fetches (Warn) and key changes (Info). The default is
// slog.Default with component=verify. No token, cookie or Authorization header
// is ever logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		o.logger = l
	}
}
