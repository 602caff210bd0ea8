package sqlite

import (
	"context"
	"embed"
	"fmt"
	"strconv"

	"github.com/gatepass/gatepass/internal/migration"
)

// migrationFS holds the schema migrations, named NNNN_description.sql and
// numbered from 1 without gaps. Never edit a released migration; add a new one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// SchemaVersionError is returned by Open when the database file was migrated by a
// newer gatepass than this one. Running on it could corrupt data the newer schema
// relies on, so Open refuses and changes nothing.
type SchemaVersionError struct {
	Path    string
	Version int // the file's schema version
	Latest  int // the newest version this binary knows
}

// Error implements the error interface.
func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("sqlite: %s has schema version %d, newer than version %d known to"+
		" this gatepass; run a newer gatepass", e.Path, e.Version, e.Latest)
}

// SchemaVersion returns the schema version of the open database file.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var version int
	err := db.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, nil
}

// migrate applies the migrations newer than the file's schema, all in one
// transaction: Open either brings the schema up to date or leaves it untouched.
//
// The version lives in PRAGMA user_version rather than in a table: it is part of
// the file header, changes atomically with the schema in the same transaction,
// and needs no bootstrapping of its own. The transaction starts with BEGIN
// IMMEDIATE, so a second process opening the file at the same moment waits, then
// finds the schema already migrated.
func (db *DB) migrate(ctx context.Context) error {
	migrations, err := migration.Load(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	latest := migrations[len(migrations)-1].Version

	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()

	// Refuse a file from the future before changing anything.
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > latest {
		return &SchemaVersionError{Path: db.Path, Version: version, Latest: latest}
	}

	for _, m := range migrations[version:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		// PRAGMA takes no bound parameters; the version is an int from our own
		// file names, never outside input.
		setVersion := "PRAGMA user_version = " + strconv.Itoa(m.Version)
		if _, err := tx.ExecContext(ctx, setVersion); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		db.Logger.Info("applied migration", attrVersion, m.Version, attrName, m.Name)
	}
	return tx.Commit()
}
