package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatepass/gatepass"
)

// CreateSecret stores a named server secret, dated with the transaction's time.
func (tx *tx) CreateSecret(ctx context.Context, name string, value []byte) error {
	_, err := tx.execContext(ctx, `
		INSERT INTO secrets (name, value, created_at)
		VALUES (?, ?, ?)`,
		name, value, timeArg(tx.now))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "secret already exists")
	} else if err != nil {
		return fmt.Errorf("insert secret: %w", err)
	}
	return nil
}

// FindSecret returns the named server secret.
func (tx *tx) FindSecret(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	err := tx.queryRowContext(ctx, `
		SELECT value FROM secrets WHERE name = ?`,
		name,
	).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "secret not found")
	} else if err != nil {
		return nil, fmt.Errorf("query secret: %w", err)
	}
	return value, nil
}
