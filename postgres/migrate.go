package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass/internal/migration"
)

// migrationFS holds the schema migrations, named NNNN_description.sql and
// numbered from 1 without gaps. Never edit a released migration; add a new one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the key of the transaction-level advisory lock migrations
// hold, so that instances starting at once migrate one after the other. Advisory
// locks are scoped to the database; the value is "gatepass" in ASCII, a key no
// other application is likely to pick.
const migrationLock = 0x6761746570617373

// SchemaVersionError is returned by Open when the database was migrated by a
// newer gatepass than this one. Running on it could corrupt data the newer schema
// relies on, so Open refuses and changes nothing.
type SchemaVersionError struct {
	Database string
	Version  int // the database's schema version
	Latest   int // the newest version this binary knows
}

// Error implements the error interface.
func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("postgres: database %q has schema version %d, newer than version %d"+
		" known to this gatepass; run a newer gatepass", e.Database, e.Version, e.Latest)
}

// SchemaVersion returns the schema version of the open database: the newest
// migration applied, or 0 for a database gatepass never migrated.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if db.pool == nil {
		return 0, errNotOpen
	}
	version, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return 0, formatError("read schema version", err)
	}
	return version, nil
}

// querier is what schemaVersion needs of a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the newest version in schema_migrations, or 0 when the
// table does not exist.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var version int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).
		Scan(&version)
	if pgCode(err) == codeUndefinedTable {
		return 0, nil
	}
	return version, err
}

// migrate applies the migrations newer than the database's schema, all in one
// transaction: Open either brings the schema up to date or leaves it untouched.
//
// The transaction first takes an advisory lock, held until it ends, so that of
// several instances starting at once one migrates and the others wait, then
// find the schema up to date. schema_migrations is created under the lock too:
// concurrent CREATE TABLE IF NOT EXISTS can fail in PostgreSQL.
func (db *DB) migrate(ctx context.Context) error {
	migrations, err := migration.Load(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	latest := migrations[len(migrations)-1].Version

	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return formatError("begin migration", err)
	}
	defer rollback(ctx, tx)

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return formatError("lock migrations", err)
	}
	// CREATE TABLE IF NOT EXISTS needs the CREATE privilege even when the table
	// exists, so look first: a role allowed only to read and write the tables
	// can then open a database that another role migrated.
	var exists bool
	err = tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	if err != nil {
		return formatError("find schema_migrations", err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `
			CREATE TABLE schema_migrations (
				version    INT         NOT NULL PRIMARY KEY,
				applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
			)`); err != nil {
			return formatError("create schema_migrations", err)
		}
	}

	// Refuse a database from the future before changing anything.
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return formatError("read schema version", err)
	} else if version > latest {
		return &SchemaVersionError{Database: db.database, Version: version, Latest: latest}
	}

	for _, m := range migrations[version:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return formatError("apply migration "+m.Name, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`,
			m.Version)
		if err != nil {
			return formatError("record migration "+m.Name, err)
		}
		db.Logger.Info("applied migration", attrVersion, m.Version, attrName, m.Name)
	}
	if err := tx.Commit(ctx); err != nil {
		return formatError("commit migration", err)
	}
	return nil
}

// rollback rolls pgTx back, unless it was committed. It does not give up when
// ctx is done: a rollback that fails closes the connection instead of returning
// it to the pool, so it gets a few seconds of its own.
func rollback(ctx context.Context, pgTx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	pgTx.Rollback(ctx)
}
