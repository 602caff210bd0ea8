package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/metrics"
	"github.com/gatepass/gatepass/ratelimit"
	"github.com/gatepass/gatepass/redis"
	"github.com/gatepass/gatepass/web"
)

// serveConfig holds the flags only "serve" has.
type serveConfig struct {
	demo                bool
	introspectionSecret string
	maxBody             int64
	pruneInterval       time.Duration
	shutdownTimeout     time.Duration
	corsOrigins         originList
	insecureCookies     bool
	signup              bool
	simpleJWTCompat     bool
	rateLimit           rateSpec
	refreshRateLimit    rateSpec
	lockout             lockoutSpec
	lockoutAddress      lockoutSpec
	lockoutMax          time.Duration
	redisURL            string
	metricsAddr         string
	trustedProxies      proxyList
}

// rateSpec is the --rate-limit flag: N/UNIT, N attempts per key per unit (s, m,
// h or a duration such as 30s) with a burst of N, or "off".
type rateSpec struct {
	off    bool
	limit  int
	period time.Duration
}

// String returns the rate in the form Set reads.
func (r *rateSpec) String() string {
	if r.off {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.limit, r.period)
}

// Set reads "off" or N/UNIT.
func (r *rateSpec) Set(v string) error {
	if v == "off" {
		*r = rateSpec{off: true}
		return nil
	}
	n, unit, ok := strings.Cut(v, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return fmt.Errorf("%q is not off or N/UNIT with N at least 1, such as 10/m", v)
	}
	period, ok := map[string]time.Duration{"s": time.Second, "m": time.Minute,
		"h": time.Hour}[unit]
	if !ok {
		if period, err = time.ParseDuration(unit); err != nil || period <= 0 {
			return fmt.Errorf("%q: unit %q is not s, m, h or a positive duration", v, unit)
		}
	}
	*r = rateSpec{limit: limit, period: period}
	return nil
}

// lockoutSpec is the --lockout and --lockout-address flags: how many failed
// sign-ins in a row an account or a client address has before it is locked out,
// or "off".
type lockoutSpec struct {
	off  bool
	free int
}

// String returns the setting in the form Set reads.
func (l *lockoutSpec) String() string {
	if l.off {
		return "off"
	}
	return strconv.Itoa(l.free)
}

// Set reads "off" or a count of at least 0.
func (l *lockoutSpec) Set(v string) error {
	if v == "off" {
		*l = lockoutSpec{off: true}
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not off or a number of failures, such as 5", v)
	}
	*l = lockoutSpec{free: n}
	return nil
}

// originList is the repeatable --cors-origin flag. One value may also list
// several origins separated by commas or spaces, which is how GATEPASS_CORS_ORIGIN
// holds them. Each is checked as it is set, so a bad one stops the start.
type originList []string

// String returns the origins, comma-separated.
func (l *originList) String() string {
	return strings.Join(*l, ",")
}

// Set adds the origins in v.
func (l *originList) Set(v string) error {
	fields, err := listValues(v, "origin")
	if err != nil {
		return err
	}
	for _, f := range fields {
		origin, err := httpapi.ParseOrigin(f)
		if err != nil {
			return err
		}
		*l = append(*l, origin)
	}
	return nil
}

// listValues splits the value of a repeatable flag that also takes a list,
// separated by commas or spaces, and fails when it names no what.
func listValues(v, what string) ([]string, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("%q names no %s", v, what)
	}
	return fields, nil
}

// proxyList is the repeatable --trusted-proxy flag. One value may also list
// several addresses or prefixes separated by commas or spaces, which is how
// GATEPASS_TRUSTED_PROXY holds them.
type proxyList []netip.Prefix

// String returns the prefixes, comma-separated.
func (l *proxyList) String() string {
	names := make([]string, len(*l))
	for i, p := range *l {
		names[i] = p.String()
	}
	return strings.Join(names, ",")
}

// Set adds the addresses and prefixes in v.
func (l *proxyList) Set(v string) error {
	fields, err := listValues(v, "address")
	if err != nil {
		return err
	}
	for _, f := range fields {
		p, err := httpapi.ParseTrustedProxy(f)
		if err != nil {
			return err
		}
		*l = append(*l, p)
	}
	return nil
}

func (m *Main) serve(ctx context.Context, args []string) error {
	var c config
	var sc serveConfig
	fs := m.newFlagSet("serve", &c)
	fs.BoolVar(&sc.demo, "demo", false,
		"create a demo user, serve the demo pages and print how to sign in")
	fs.StringVar(&sc.introspectionSecret, "introspection-secret", "",
		"secret resource servers present to POST /oauth/introspect (off when empty)")
	fs.Int64Var(&sc.maxBody, "max-body", 64<<10, "largest request body in bytes")
	fs.DurationVar(&sc.pruneInterval, "prune-interval", 10*time.Minute,
		"how often expired sessions and tokens are deleted")
	fs.DurationVar(&sc.shutdownTimeout, "shutdown-timeout", 15*time.Second,
		"how long in-flight requests may take to finish on shutdown")
	fs.Var(&sc.corsOrigins, "cors-origin",
		"origin (scheme://host[:port]) whose pages may call the API with cookies; repeatable")
	fs.BoolVar(&sc.insecureCookies, "insecure-cookies", false,
		"cookies without Secure and name prefixes, for plain http on a loopback issuer")
	fs.BoolVar(&sc.signup, "signup", false, "enable self-service sign-up at POST /auth/signup")
	fs.BoolVar(&sc.simpleJWTCompat, "simplejwt-compat", false,
		"serve djangorestframework-simplejwt's endpoints under /api/token/ (default: on with --demo)")
	sc.rateLimit = rateSpec{limit: 10, period: time.Minute}
	fs.Var(&sc.rateLimit, "rate-limit",
		"sign-ins per account and per client address: N/s, N/m, N/h, "+
			"or off for no rate limits at all")
	sc.refreshRateLimit = rateSpec{limit: 60, period: time.Minute}
	fs.Var(&sc.refreshRateLimit, "refresh-rate-limit",
		"refreshes per client address: N/s, N/m, N/h, or off")
	sc.lockout = lockoutSpec{free: gatepass.DefaultLockoutPolicy().Free}
	fs.Var(&sc.lockout, "lockout",
		"failed sign-ins an account may have before each further one locks it out, "+
			"for 1s, 2s, 4s... up to --lockout-max; off for none "+
			"(--rate-limit off turns it off too)")
	sc.lockoutAddress = lockoutSpec{free: gatepass.DefaultAddressLockoutPolicy().Free}
	fs.Var(&sc.lockoutAddress, "lockout-address",
		"failed sign-ins a client address may have before it is locked out the same "+
			"way; off behind a reverse proxy not given to --trusted-proxy, where every "+
			"client shares its address")
	fs.Var(&sc.trustedProxies, "trusted-proxy",
		"address or CIDR prefix of a reverse proxy whose X-Forwarded-For names the "+
			"client; repeatable (default: none, every client is its direct peer)")
	fs.DurationVar(&sc.lockoutMax, "lockout-max", gatepass.DefaultLockoutPolicy().Max,
		"longest sign-in lockout; failures are forgotten after twice this without one")
	fs.StringVar(&sc.redisURL, "redis", "",
		"redis:// URL of a server that keeps rate limits shared by all instances "+
			"(default: in memory, per instance)")
	fs.BoolVar(&c.auth.RevocationCheck, "revocation-check", false,
		"refuse the access tokens of revoked sessions within a second on every "+
			"instance sharing the database, instead of when they expire")
	fs.IntVar(&c.auth.TokenCache, "token-cache", c.auth.TokenCache,
		"verified access tokens remembered, so that checking one again skips its "+
			"signature (about 1 KiB each); 0 turns the cache off")
	fs.StringVar(&sc.metricsAddr, "metrics-addr", "",
		"serve GET /metrics on this address instead of --addr, such as 127.0.0.1:9090, "+
			"or off (default: on --addr)")
	if err := m.parse(fs, args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments", errUsage)
	} else if sc.pruneInterval < time.Second {
		return fmt.Errorf("prune-interval: must be at least 1s, got %s", sc.pruneInterval)
	} else if sc.lockoutMax < time.Second {
		return fmt.Errorf("lockout-max: must be at least 1s, got %s", sc.lockoutMax)
	}
	c.finish()
	if sc.demo && !m.flagGiven(fs, "simplejwt-compat") {
		sc.simpleJWTCompat = true
	}

	log, err := m.logger(&c)
	if err != nil {
		return err
	}
	return m.runServer(ctx, &c, &sc, log)
}

// runServer serves until ctx ends, then lets in-flight requests finish and closes
// the database.
func (m *Main) runServer(ctx context.Context, c *config, sc *serveConfig,
	log *slog.Logger) error {
	svc, store, err := m.openService(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	closeLimiters, err := openLimiters(ctx, svc, sc, log)
	if err != nil {
		return err
	}
	defer closeLimiters()
	api, err := newAPI(svc, sc, log)
	if err != nil {
		return err
	}
	metricsHandler := newMetrics(svc, api, sc, log)
	if !c.auth.RevocationCheck {
		log.Info("revocation check off: access tokens of revoked sessions work " +
			"until they expire")
	}
	if err := svc.EnsureAlgorithm(ctx); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}

	if sc.demo {
		if !loopbackURL(c.auth.Issuer) {
			return errors.New("demo: it creates an account with a published password, " +
				"so it runs only with a localhost, 127.0.0.1 or [::1] issuer")
		}
		if err := m.createDemoUser(ctx, svc, c); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := httpServer(api, log)

	// The background loop stops before the deferred store.Close runs.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { svc.Run(bg, sc.pruneInterval) })
	defer background.Wait()
	defer stopBackground()

	stopMetrics, err := serveMetrics(ctx, sc, metricsHandler, log)
	if err != nil {
		ln.Close()
		return err
	}

	log.Info("listening", "addr", ln.Addr().String(), "issuer", c.auth.Issuer,
		"alg", c.auth.Algorithm, "db", displayDB(c.db))
	if m.OnListen != nil {
		m.OnListen(ln.Addr().String())
	}
	err = serveUntilDone(ctx, srv, ln, sc.shutdownTimeout, log)
	return errors.Join(err, stopMetrics())
}

// openLimiters gives svc the rate limiters the serve flags ask for and returns a
// function that releases them. --rate-limit off turns every limiter off.
func openLimiters(ctx context.Context, svc *auth.Service, sc *serveConfig,
	log *slog.Logger) (func(), error) {
	if sc.rateLimit.off {
		log.Warn("rate limiting off: --rate-limit off is for load tests and benchmarks")
		return func() {}, nil
	}
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}

	login, closeLogin, err := openLimiter(ctx, sc.rateLimit, sc.redisURL)
	if err != nil {
		return nil, err
	}
	closers = append(closers, closeLogin)
	refresh, closeRefresh, err := openLimiter(ctx, sc.refreshRateLimit, sc.redisURL)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, closeRefresh)
	account, closeAccount, err := openLockout(ctx, sc.lockout, sc)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, closeAccount)
	address, closeAddress, err := openLockout(ctx, sc.lockoutAddress, sc)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, closeAddress)
	svc.Limiter, svc.RefreshLimiter = login, refresh
	svc.Lockout, svc.AddressLockout = account, address

	store := "memory"
	if sc.redisURL != "" {
		store = "redis"
	}
	log.Info("rate limits", "store", store, "rate_limit", sc.rateLimit.String(),
		"refresh_rate_limit", sc.refreshRateLimit.String())
	if sc.refreshRateLimit.off {
		log.Warn("refresh rate limiting off")
	}
	logLockouts(sc, store, log)
	return closeAll, nil
}

// openLimiter returns a limiter of rs, kept in Redis when redisURL is set, and
// a function that releases it. It returns nil when rs is off.
func openLimiter(ctx context.Context, rs rateSpec, redisURL string) (gatepass.Limiter,
	func(), error) {
	if rs.off {
		return nil, func() {}, nil
	} else if redisURL == "" {
		return ratelimit.NewLimiter(rs.limit, rs.period), func() {}, nil
	}

	l := redis.NewLimiter(redisURL, rs.limit, rs.period)
	if err := l.Open(); err != nil {
		return nil, nil, err
	} else if err := l.Ping(ctx); err != nil {
		l.Close()
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	return l, func() { l.Close() }, nil
}

// openLockout returns a sign-in lockout that allows ls free failures, with the
// --lockout-max cap, kept in Redis when --redis is set, and a function that
// releases it. It returns nil when ls is off.
func openLockout(ctx context.Context, ls lockoutSpec, sc *serveConfig) (gatepass.Lockout,
	func(), error) {
	if ls.off {
		return nil, func() {}, nil
	}
	p := lockoutPolicy(ls, sc)
	if err := p.Validate(); err != nil {
		return nil, nil, err
	} else if sc.redisURL == "" {
		return ratelimit.NewLockout(p), func() {}, nil
	}

	l := redis.NewLockout(sc.redisURL, p)
	if err := l.Open(); err != nil {
		return nil, nil, err
	} else if err := l.Ping(ctx); err != nil {
		l.Close()
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	return l, func() { l.Close() }, nil
}

// lockoutPolicy is the policy of a lockout that allows ls free failures: locks
// from 1s up to --lockout-max, failures forgotten after twice that.
func lockoutPolicy(ls lockoutSpec, sc *serveConfig) gatepass.LockoutPolicy {
	p := gatepass.DefaultLockoutPolicy()
	p.Free, p.Max, p.Forget = ls.free, sc.lockoutMax, 2*sc.lockoutMax
	return p
}

// logLockouts logs the lockout policy at start, or warns that there is none.
func logLockouts(sc *serveConfig, store string, log *slog.Logger) {
	if sc.lockout.off && sc.lockoutAddress.off {
		log.Warn("sign-in lockout off")
		return
	}
	p := lockoutPolicy(sc.lockout, sc)
	log.Info("sign-in lockout", "store", store,
		"account_free_failures", sc.lockout.String(),
		"address_free_failures", sc.lockoutAddress.String(),
		"first_lock", p.Base, "max_lock", p.Max, "forget_after", p.Forget)
}

// newAPI configures the HTTP API from the serve flags and checks the result.
func newAPI(svc *auth.Service, sc *serveConfig, log *slog.Logger) (*httpapi.Server, error) {
	api := httpapi.NewServer(svc)
	api.Logger = log.With("component", "http")
	api.MaxBodyBytes = sc.maxBody
	api.IntrospectionSecret = sc.introspectionSecret
	api.CORSOrigins = sc.corsOrigins
	api.InsecureCookies = sc.insecureCookies
	api.AllowSignUp = sc.signup
	api.SimpleJWTCompat = sc.simpleJWTCompat
	api.TrustedProxies = sc.trustedProxies
	if sc.demo {
		api.Fallback = web.Handler()
	}
	if err := api.Validate(); err != nil {
		return nil, err
	}

	if sc.introspectionSecret == "" {
		log.Info("token introspection disabled: no --introspection-secret")
	}
	if sc.insecureCookies {
		log.Warn("cookies are sent without Secure: --insecure-cookies is for development")
	}
	if len(sc.trustedProxies) > 0 {
		log.Info("trusted proxies name the client in X-Forwarded-For",
			"trusted_proxies", sc.trustedProxies.String())
	}
	return api, nil
}

// newMetrics wires metrics into svc and api as --metrics-addr asks. It returns the
// handler for a listener of its own, or nil when /metrics is served on --addr or
// metrics are off.
func newMetrics(svc *auth.Service, api *httpapi.Server, sc *serveConfig,
	log *slog.Logger) http.Handler {
	if sc.metricsAddr == "off" {
		log.Info("metrics disabled: --metrics-addr off")
		return nil
	}
	m := metrics.New(svc)
	m.Logger = log.With("component", "metrics")
	svc.Observer, api.Requests = m, m
	if sc.metricsAddr == "" {
		api.Metrics = m.Handler()
		return nil
	}
	return m.Handler()
}

// serveMetrics serves h at GET /metrics on --metrics-addr until ctx ends or the
// returned function is called; that function stops the listener and reports how
// serving went. Without h it does nothing.
func serveMetrics(ctx context.Context, sc *serveConfig, h http.Handler,
	log *slog.Logger) (func() error, error) {
	if h == nil {
		return func() error { return nil }, nil
	}
	ln, err := net.Listen("tcp", sc.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	log = log.With("component", "metrics")
	srv := httpapi.NewHTTPServer("", mux)
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(ctx, srv, ln, sc.shutdownTimeout, log) }()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() error {
		cancel()
		return <-done
	}, nil
}

// httpServer wraps the API in an http.Server that logs through log.
func httpServer(api *httpapi.Server, log *slog.Logger) *http.Server {
	srv := httpapi.NewHTTPServer("", api.Handler())
	srv.ErrorLog = slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn)
	return srv
}

// serveUntilDone runs srv on ln until ctx ends, then shuts it down gracefully.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener,
	timeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
