package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
)

// CreateKey inserts k.
func (tx *tx) CreateKey(ctx context.Context, k *gatepass.SigningKey) error {
	_, err := tx.execContext(ctx, `
		INSERT INTO signing_keys (id, algorithm, private, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Private, timeArg(k.CreatedAt), timeArg(k.RetiredAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "signing key already exists")
	} else if err != nil {
		return fmt.Errorf("insert signing key: %w", err)
	}
	return nil
}

// LockKeys does nothing: an Update transaction began with BEGIN IMMEDIATE and so
// already holds the database's only write lock.
func (tx *tx) LockKeys(context.Context) error {
	return nil
}

// FindKeys returns every signing key, oldest first; rowid breaks ties between
// keys created in the same microsecond.
func (tx *tx) FindKeys(ctx context.Context) ([]*gatepass.SigningKey, error) {
	rows, err := tx.tx.QueryContext(ctx, `
		SELECT id, algorithm, private, created_at, retired_at
		FROM signing_keys
		ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("query signing keys: %w", err)
	}
	defer rows.Close()

	keys := []*gatepass.SigningKey{}
	for rows.Next() {
		var k gatepass.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private,
			timeColumn{&k.CreatedAt}, timeColumn{&k.RetiredAt}); err != nil {
			return nil, fmt.Errorf("scan signing key: %w", err)
		}
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query signing keys: %w", err)
	}
	return keys, nil
}

// RetireKeys sets RetiredAt on every current key. Returns EINVALID for a zero at,
// which would leave the keys current.
func (tx *tx) RetireKeys(ctx context.Context, at time.Time) error {
	if err := requireTime(at, "retirement"); err != nil {
		return err
	}

	_, err := tx.execContext(ctx, `
		UPDATE signing_keys SET retired_at = ?
		WHERE retired_at IS NULL`,
		timeArg(at))
	if err != nil {
		return fmt.Errorf("retire signing keys: %w", err)
	}
	return nil
}
