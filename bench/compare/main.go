// Command compare serves one protected endpoint three ways on one port, so that
// checking a gatepass access token can be measured beside the two designs it
// replaces, in the same process, on the same database, under the same load:
//
//	GET /protected/jwt       Bearer access token, verified locally (package verify,
//	                         with the keys of the service's JWKS): no database
//	GET /protected/session   session id in a cookie, the session row read from the
//	                         database on every request
//	GET /protected/password  HTTP Basic, the user read and the password checked
//	                         with argon2id on every request
//
// Each answers 200 with {"user_id":"ID"}, or 401. The same listener serves
// gatepass's own API, so loadgen signs in at /oauth/token, and /healthz is the
// trivial baseline of the same run. Run the loadgen scenarios trivial, jwt,
// session and password against it. With -cpuprofile the process writes a CPU
// profile of everything it served, which is how the server's refresh and
// forward-auth paths are profiled. With -hash-rate it measures the raw argon2id
// hash rate of the machine and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	runtimepprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/bench/load"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/postgres"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
	"golang.org/x/crypto/argon2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "compare:", err)
		}
		stop()
		os.Exit(1)
	}
}

// Log attribute keys.
const (
	attrAddr  = "addr"
	attrDB    = "db"
	attrError = "error"
)

// config holds the flags.
type config struct {
	addr       string
	db         string
	user       string
	password   string
	users      int
	logLevel   string
	cpuProfile string
	pprof      bool
	hashRate   time.Duration
}

// run parses the flags and either measures the hash rate or serves until ctx
// ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8090", "address to listen on")
	fs.StringVar(&c.db, "db", "compare.db", "SQLite database file, or a postgres:// URL")
	fs.StringVar(&c.user, "user", "demo", "account to create; the name prefix with -users")
	fs.StringVar(&c.password, "password", "demo-password", "password of the accounts")
	fs.IntVar(&c.users, "users", 0, "create N accounts, USER-1 to USER-N (0: just -user)")
	fs.StringVar(&c.logLevel, "log-level", "info",
		"debug, info, warn or error; info is gatepass serve's default")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the serving "+
		"time to this file")
	fs.BoolVar(&c.pprof, "pprof", false, "serve CPU profiles at GET /debug/pprof/profile "+
		"(?seconds=N), to profile part of a run")
	fs.DurationVar(&c.hashRate, "hash-rate", 0, "measure argon2id hashes per second on "+
		"every CPU for this long, print them as JSON and exit")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	if c.hashRate > 0 {
		return measureHashRate(ctx, c.hashRate, stdout)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("log-level: %q is not debug, info, warn or error", c.logLevel)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serve(ctx, &c, logger)
}

// serve opens the database and the service, creates the accounts and serves
// until ctx ends.
func serve(ctx context.Context, c *config, logger *slog.Logger) error {
	store, err := openStore(ctx, c.db, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	hasher := password.NewHasher(0)
	cfg := auth.DefaultConfig()
	cfg.Issuer = "http://" + c.addr
	cfg.Audience = cfg.Issuer
	svc := auth.NewService(store, hasher, cfg)
	svc.Logger = logger.With("component", "auth")
	if err := svc.Open(ctx); err != nil {
		return err
	}
	if err := createUsers(ctx, svc, c); err != nil {
		return err
	}

	s, err := newServer(ctx, store, svc, hasher, logger)
	if err != nil {
		return err
	}
	s.pprof = c.pprof
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	stopProfile, err := startProfile(c.cpuProfile)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopProfile()

	logger.Info("listening", attrAddr, ln.Addr().String(), attrDB, dbKind(c.db))
	return serveUntilDone(ctx, httpapi.NewHTTPServer("", s.Handler()), ln)
}

// openStore opens the database dsn names, as gatepass serve --db does.
func openStore(ctx context.Context, dsn string, logger *slog.Logger) (gatepass.Store,
	error) {
	if dbKind(dsn) == "postgres" {
		db := postgres.NewDB(dsn)
		db.Logger = logger.With("component", "postgres")
		if err := db.Open(ctx); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return db, nil
	}

	db := sqlite.NewDB(dsn)
	db.Logger = logger.With("component", "sqlite")
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// dbKind names the engine of a --db value without giving away its password.
func dbKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// createUsers creates the accounts loadgen signs in as, unless they exist.
func createUsers(ctx context.Context, svc *auth.Service, c *config) error {
	names := []string{c.user}
	if c.users > 0 {
		names = names[:0]
		for i := 1; i <= c.users; i++ {
			names = append(names, c.user+"-"+strconv.Itoa(i))
		}
	}

	for _, name := range names {
		_, err := svc.CreateUser(ctx, auth.NewUser{Name: name, Password: c.password})
		if err != nil && gatepass.ErrorCode(err) != gatepass.ECONFLICT {
			return fmt.Errorf("create user %s: %w", name, err)
		}
	}
	return nil
}

// startProfile starts a CPU profile into path, unless path is empty, and
// returns the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := runtimepprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		runtimepprof.StopCPUProfile()
		f.Close()
	}, nil
}

// serveUntilDone serves on ln until ctx ends, then lets requests in flight
// finish.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// hashRate is the -hash-rate output.
type hashRate struct {
	PerSecond  float64 `json:"hashes_per_second"`
	Goroutines int     `json:"goroutines"`
	Seconds    float64 `json:"seconds"`
	MemoryKiB  uint32  `json:"memory_kib"`
	Time       uint32  `json:"time"`
	Threads    uint8   `json:"threads"`
}

// measureHashRate computes argon2id hashes with gatepass's parameters on every
// CPU at once for d and reports how many it managed per second: the ceiling of
// any sign-in rate. It calls argon2 directly, outside the Hasher's slots, so
// that nothing but the hash itself is measured.
func measureHashRate(ctx context.Context, d time.Duration, w io.Writer) error {
	h := password.NewHasher(0)
	n := runtime.GOMAXPROCS(0)
	pw, salt := []byte("correct horse battery staple"), make([]byte, h.SaltLen)

	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range n {
		wg.Go(func() {
			// At least one hash each, so that a short run still measures one.
			for done := false; !done; {
				argon2.IDKey(pw, salt, h.Time, h.Memory, h.Threads, h.KeyLen)
				count.Add(1)
				done = ctx.Err() != nil || !time.Now().Before(deadline)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}

	secs := time.Since(start).Seconds()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(hashRate{PerSecond: float64(count.Load()) / secs, Goroutines: n,
		Seconds: secs, MemoryKiB: h.Memory, Time: h.Time, Threads: h.Threads})
}

// server serves the three variants of the protected endpoint and, for every
// other path, gatepass's API.
type server struct {
	store    gatepass.Store
	hasher   *password.Hasher
	verifier *verify.Verifier
	api      *httpapi.Server
	logger   *slog.Logger

	// pprof serves CPU profiles. Only the harness has it: it tells anyone who
	// can connect what the process is doing.
	pprof bool
}

// newServer builds the variants over svc, which must be open, its store and
// the hasher it uses. The JWT variant verifies with the keys svc publishes, as
// a resource server in another process would.
func newServer(ctx context.Context, store gatepass.Store, svc *auth.Service,
	hasher *password.Hasher, logger *slog.Logger) (*server, error) {
	keys, err := token.ParseJWKS(svc.JWKS())
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	cfg := svc.Config()
	v, err := verify.New(ctx, cfg.Issuer, cfg.Audience, verify.WithKeys(keys...),
		verify.WithLogger(logger.With("component", "verify")))
	if err != nil {
		return nil, err
	}

	api := httpapi.NewServer(svc)
	api.Logger = logger.With("component", "http")
	return &server{store: store, hasher: hasher, verifier: v, api: api,
		logger: logger.With("component", "compare")}, nil
}

// Handler returns the routes: the three variants, and the API for the rest.
func (s *server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+load.PathJWT, s.verifier.Middleware(http.HandlerFunc(s.handleJWT)))
	mux.HandleFunc("GET "+load.PathSession, s.handleSession)
	mux.HandleFunc("GET "+load.PathPassword, s.handlePassword)
	if s.pprof {
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("/", s.api.Handler())
	return mux
}

// protectedResponse is the answer of every variant.
type protectedResponse struct {
	UserID string `json:"user_id"`
}

// handleJWT answers with the subject of the token the middleware verified.
func (s *server) handleJWT(w http.ResponseWriter, r *http.Request) {
	writeUser(w, verify.Subject(r.Context()))
}

// handleSession reads the session named by the cookie and its user, as a
// server keeping sessions in its database does on every request: in one
// statement, outside a transaction, the cheapest read the store offers.
func (s *server) handleSession(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(load.SessionCookie)
	if err != nil || c.Value == "" {
		writeUnauthorized(w)
		return
	}

	sess, u, err := s.store.FindSessionWithUser(r.Context(), c.Value)
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND ||
		err == nil && (!sess.Active(time.Now()) || u.Disabled) {
		writeUnauthorized(w)
		return
	} else if err != nil {
		s.internalError(w, err)
		return
	}
	writeUser(w, strconv.FormatInt(sess.UserID, 10))
}

// handlePassword checks HTTP Basic credentials as a sign-in does: the user is
// read and the password verified with argon2id, on every request.
func (s *server) handlePassword(w http.ResponseWriter, r *http.Request) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		writeUnauthorized(w)
		return
	}

	var u *gatepass.User
	err := s.store.View(r.Context(), func(tx gatepass.Tx) error {
		var err error
		u, err = tx.FindUserByName(r.Context(), name)
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		s.hasher.VerifyDummy(r.Context(), pw)
		writeUnauthorized(w)
		return
	} else if err != nil {
		s.internalError(w, err)
		return
	}

	match, _, err := s.hasher.Verify(r.Context(), pw, u.PasswordHash)
	if err != nil {
		s.internalError(w, err)
		return
	} else if !match || u.Disabled {
		writeUnauthorized(w)
		return
	}
	writeUser(w, strconv.FormatInt(u.ID, 10))
}

// internalError logs err and answers 500 without it.
func (s *server) internalError(w http.ResponseWriter, err error) {
	s.logger.Error("internal error", attrError, err)
	writeError(w, http.StatusInternalServerError, "server_error")
}

// writeUser answers 200 with the user id.
func writeUser(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(protectedResponse{UserID: id})
}

// writeUnauthorized answers a missing or bad credential.
func writeUnauthorized(w http.ResponseWriter) {
	writeError(w, http.StatusUnauthorized, "unauthorized")
}

// writeError answers status with {"error": code}.
func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}
