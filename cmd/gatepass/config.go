package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/postgres"
	"github.com/gatepass/gatepass/sqlite"
)

// config is what every command shares: where the data lives, the token policy and
// logging. Commands add their own flags beside it.
type config struct {
	addr       string
	db         string
	dbMaxConns int
	auth       auth.Config
	scopes     string
	maxHashing int
	logLevel   string
	logFormat  string
}

// newFlagSet returns a flag set for a command with the shared flags registered.
func (m *Main) newFlagSet(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("gatepass "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)

	def := auth.DefaultConfig()
	c.auth = def
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.db, "db", "gatepass.db",
		"SQLite database file, or a postgres:// URL")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 0, fmt.Sprintf(
		"most connections to PostgreSQL this process holds; 0 for the default, "+
			"%d here: 8 per CPU, at most 32", postgres.DefaultMaxConns()))
	fs.StringVar(&c.auth.Issuer, "issuer", "",
		"public URL of this service, the \"iss\" claim (default http://ADDR)")
	fs.StringVar(&c.auth.Audience, "audience", "", "the \"aud\" claim (default: the issuer)")
	fs.DurationVar(&c.auth.AccessTTL, "access-ttl", def.AccessTTL, "access token lifetime")
	fs.DurationVar(&c.auth.RefreshTTL, "refresh-ttl", def.RefreshTTL,
		"refresh token lifetime, renewed on each rotation")
	fs.DurationVar(&c.auth.SessionTTL, "session-ttl", def.SessionTTL,
		"absolute session lifetime")
	fs.DurationVar(&c.auth.ReuseInterval, "reuse-interval", def.ReuseInterval,
		"how long a rotated refresh token still returns the current one")
	fs.DurationVar(&c.auth.Leeway, "leeway", def.Leeway, "clock skew allowed on exp/nbf/iat")
	fs.StringVar(&c.auth.Algorithm, "alg", def.Algorithm,
		"signing algorithm: ES256, HS256, RS256 or EdDSA")
	fs.StringVar(&c.scopes, "scopes", strings.Join(def.Scopes, " "),
		"space-separated scopes clients may request")
	fs.StringVar(&c.auth.ClientID, "client-id", def.ClientID,
		"client_id of tokens requested without one")
	fs.DurationVar(&c.auth.KeyReloadInterval, "key-reload-interval", def.KeyReloadInterval,
		"how often signing keys are re-read, so a rotation elsewhere is picked up")
	fs.DurationVar(&c.auth.AuditRetention, "audit-retention", def.AuditRetention,
		"how long audit events are kept before prune deletes them; 0 keeps them forever")
	fs.IntVar(&c.maxHashing, "max-hashing", 0,
		"password hashes computed at once (default 2 per CPU)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	return fs
}

// parse reads the command line, then fills every flag it did not set from its
// GATEPASS_* environment variable, so flags win over the environment.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := m.Getenv(name)
		if v == "" || given[f.Name] || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("%s: %w", name, err)
		}
	})
	return envErr
}

// flagGiven reports whether a flag was set on the command line or in the
// environment, rather than left at its default.
func (m *Main) flagGiven(fs *flag.FlagSet, name string) bool {
	given := m.Getenv(envName(name)) != ""
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// envName maps a flag name to its environment variable: access-ttl is
// GATEPASS_ACCESS_TTL.
func envName(flagName string) string {
	return "GATEPASS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// finish fills the defaults that depend on other settings.
func (c *config) finish() {
	c.auth.Scopes = strings.Fields(c.scopes)
	if c.auth.Issuer == "" {
		c.auth.Issuer = "http://" + publicHost(c.addr)
	}
	c.auth.Issuer = strings.TrimSuffix(c.auth.Issuer, "/")
	if c.auth.Audience == "" {
		c.auth.Audience = c.auth.Issuer
	}
}

// publicHost turns a listen address into one a client can reach.
func publicHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// logger builds the structured logger the configuration asks for.
func (m *Main) logger(c *config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.logLevel)
	}

	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log-format: %q is not text or json", c.logFormat)
}

// maxDBConns bounds --db-max-conns; PostgreSQL's own limit is usually far lower.
const maxDBConns = 10000

// isPostgresURL reports whether a --db value names a PostgreSQL database.
func isPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// displayDB returns a --db value as logs and messages may show it: a
// PostgreSQL URL without its passwords, whether in the user part or in the
// query, where sslpassword unlocks the client key. A URL that does not parse
// is withheld whole, since url.Parse's error would quote it.
func displayDB(db string) string {
	if !isPostgresURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "(PostgreSQL URL withheld)"
	}

	q, redacted := u.Query(), false
	for name := range q {
		if strings.Contains(strings.ToLower(name), "password") {
			q.Set(name, "xxxxx")
			redacted = true
		}
	}
	if redacted {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// openStore opens the database named by --db.
func openStore(ctx context.Context, c *config, log *slog.Logger) (gatepass.Store, error) {
	if isPostgresURL(c.db) {
		if c.dbMaxConns < 0 || c.dbMaxConns > maxDBConns {
			return nil, fmt.Errorf("%w: db-max-conns: must be 0 to %d, got %d", errUsage,
				maxDBConns, c.dbMaxConns)
		}
		db := postgres.NewDB(c.db)
		db.MaxConns = int32(c.dbMaxConns)
		db.Logger = log.With("component", "postgres")
		if err := db.Open(ctx); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return db, nil
	}

	db := sqlite.NewDB(c.db)
	db.Logger = log.With("component", "sqlite")
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// openService opens the store and the token service on it. The caller closes the
// returned store.
func (m *Main) openService(ctx context.Context, c *config,
	log *slog.Logger) (*auth.Service, gatepass.Store, error) {
	store, err := openStore(ctx, c, log)
	if err != nil {
		return nil, nil, err
	}

	svc := auth.NewService(store, password.NewHasher(c.maxHashing), c.auth)
	svc.Logger = log.With("component", "auth")
	if err := svc.Open(ctx); err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, store, nil
}

// splitName takes a leading positional NAME off args, so that flags may follow it.
func splitName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// start parses a command's arguments (none positional), builds the logger and
// opens the service. The caller calls done when finished.
func (m *Main) start(ctx context.Context, fs *flag.FlagSet, c *config,
	args []string) (svc *auth.Service, done func(), err error) {
	if err := m.parse(fs, args); err != nil {
		return nil, nil, err
	} else if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return m.open(ctx, c)
}

// open builds the logger and opens the service for parsed flags.
func (m *Main) open(ctx context.Context, c *config) (svc *auth.Service, done func(),
	err error) {
	c.finish()

	log, err := m.logger(c)
	if err != nil {
		return nil, nil, err
	}
	svc, store, err := m.openService(ctx, c, log)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { store.Close() }, nil
}
