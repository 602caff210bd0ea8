package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

// CreateSecret stores a named server secret, dated with the transaction's time.
func (tx *tx) CreateSecret(ctx context.Context, name string, value []byte) error {
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO secrets (name, value, created_at)
		VALUES ($1, $2, $3)`,
		name, value, timeArg(tx.now))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "secret already exists")
	} else if err != nil {
		return formatError("insert secret", err)
	}
	return nil
}

// FindSecret returns the named server secret.
func (tx *tx) FindSecret(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := tx.tx.QueryRow(ctx, `
		SELECT value FROM secrets WHERE name = $1`,
		name,
	).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "secret not found")
	} else if err != nil {
		return nil, formatError("query secret", err)
	}
	return value, nil
}
