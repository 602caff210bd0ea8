// Package postgres is the PostgreSQL storage engine of gatepass: a gatepass.Store
// on one PostgreSQL database, through a pgx connection pool. Several gatepass
// instances may share the database.
package postgres

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatepass/gatepass"
)

// Log attribute keys.
const (
	attrHost     = "host"
	attrDatabase = "database"
	attrError    = "error"
	attrVersion  = "version"
	attrName     = "name"
)

// Pool settings; see DB.
const (
	minConns          = 1
	healthCheckPeriod = 30 * time.Second
	maxConnLifetime   = 30 * time.Minute
	maxLifetimeJitter = 5 * time.Minute
	maxConnIdleTime   = 5 * time.Minute
	pingTimeout       = 5 * time.Second
	connectTimeout    = 10 * time.Second
	rollbackTimeout   = 5 * time.Second
)

// Ensure DB implements the storage contract.
var _ gatepass.Store = (*DB)(nil)

// DB is a gatepass.Store on a PostgreSQL database. Set the optional fields
// before Open.
//
// Update runs a READ COMMITTED transaction; rotations of one session family
// serialise on the session's row lock (LockSession takes it with SELECT ... FOR
// UPDATE), so they run one at a time across every instance sharing the database,
// while other sessions rotate in parallel. View runs a REPEATABLE READ, READ ONLY
// transaction: one snapshot for all of fn, and no write can slip in.
//
// The pool is set up as follows; pool_* parameters in the DSN are overridden:
//   - at most MaxConns connections; a caller waits for one up to its context's
//     deadline, which then counts as EUNAVAILABLE;
//   - at least 1 connection kept open, so a readiness check or the first request
//     after a quiet spell does not pay for a connection, without pinning many
//     idle backends per instance;
//   - idle connections checked every 30s, and closed after 5 minutes of idleness
//     beyond the minimum, so a burst does not hold backends for long;
//   - every connection replaced after 30 to 35 minutes (the jitter keeps them
//     from all reconnecting at once), so connections follow a failover or DNS
//     change and backend memory stays bounded;
//   - a connection idle for over a second is pinged (5s limit) before use, so one
//     the server closed meanwhile is replaced instead of failing a request; a
//     transaction whose first batch still finds its connection dead runs once
//     more on another (see run);
//   - a 10s connect timeout unless the DSN sets connect_timeout, since the
//     pool's background connections have no caller deadline;
//   - pgx's default query mode: each statement is prepared once per connection
//     and cached (512 per connection). Set default_query_exec_mode in the DSN
//     behind a transaction-mode pooler such as PgBouncer.
type DB struct {
	// DSN is the PostgreSQL connection string, as a URL or key=value pairs. It
	// may hold a password, so it never appears in an error or a log message.
	DSN string

	// MaxConns caps the pool's connections. Zero means DefaultMaxConns. Mind
	// the server's max_connections across every instance.
	MaxConns int32

	// Now returns the current time; it dates rows whose time the contract does
	// not pass in (secrets). Defaults to time.Now.
	Now func() time.Time

	// Logger receives lifecycle messages (connection target, migrations).
	// Defaults to slog.Default().With("component", "postgres").
	Logger *slog.Logger

	pool     *pgxpool.Pool
	database string // the database name, for errors and logs
}

// NewDB returns a DB for the database at dsn. Call Open before use.
func NewDB(dsn string) *DB {
	return &DB{DSN: dsn}
}

// Open connects and migrates the schema to the latest version. When the
// database's schema is newer than this binary knows, it returns a
// *SchemaVersionError and leaves schema and data alone. A database that cannot
// be reached gives EUNAVAILABLE.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.DSN == "" {
		return errors.New("postgres: DSN required")
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.Default().With("component", "postgres")
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	config, err := db.poolConfig()
	if err != nil {
		return err
	}
	if db.pool, err = pgxpool.NewWithConfig(ctx, config); err != nil {
		return formatError("create pool", err)
	}
	cc := config.ConnConfig
	db.Logger.Info("connecting", attrHost, cc.Host, attrDatabase, cc.Database)

	return db.migrate(ctx)
}

// poolConfig parses the DSN and applies the pool settings described on DB.
func (db *DB) poolConfig() (*pgxpool.Config, error) {
	// The parse error may quote the DSN, password included, so it is dropped.
	config, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		return nil, errors.New("postgres: invalid DSN (details withheld: it may hold a password)")
	}
	db.database = config.ConnConfig.Database

	config.MaxConns = db.MaxConns
	if config.MaxConns <= 0 {
		config.MaxConns = DefaultMaxConns()
	}
	config.MinConns = min(minConns, config.MaxConns)
	config.HealthCheckPeriod = healthCheckPeriod
	config.MaxConnLifetime = maxConnLifetime
	config.MaxConnLifetimeJitter = maxLifetimeJitter
	config.MaxConnIdleTime = maxConnIdleTime
	config.PingTimeout = pingTimeout

	cc := config.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = connectTimeout
	}
	// Name the connections in pg_stat_activity, unless the DSN does.
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "gatepass"
	}
	return config, nil
}

// DefaultMaxConns is the pool size when DB.MaxConns is zero: 8 connections
// per CPU (GOMAXPROCS), at most 32. A transaction spends most of its time
// waiting for round trips and for PostgreSQL, not running here, so it takes
// more connections than CPUs to keep the database busy: with 32 clients
// refreshing on two CPUs, 16 connections gave about 30% more refreshes a
// second than 8, and 32 fewer than 16. The cap keeps two instances within
// PostgreSQL's default max_connections of 100.
func DefaultMaxConns() int32 {
	return int32(min(8*runtime.GOMAXPROCS(0), 32))
}

// Close closes the pool, waiting for connections in use to be released. It is
// safe to call on a DB that failed to open.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
	}
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.pool == nil {
		return errNotOpen
	}
	if err := db.pool.Ping(ctx); err != nil {
		return formatError("ping", err)
	}
	return nil
}

// Update runs fn in a READ COMMITTED read-write transaction. The isolation level
// is set explicitly, whatever the server's default: MarkRefreshTokenUsed relies
// on a statement seeing rows committed after the transaction began.
func (db *DB) Update(ctx context.Context, fn func(gatepass.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

// View runs fn in a read-only transaction on one snapshot of the database.
// Read-only REPEATABLE READ transactions never fail with serialization errors.
func (db *DB) View(ctx context.Context, fn func(gatepass.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return db.run(ctx, opts, fn)
}
