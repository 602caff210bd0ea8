package postgres

import (
	"context"
	"time"

	"github.com/gatepass/gatepass"
)

// CreateKey inserts k.
func (tx *tx) CreateKey(ctx context.Context, k *gatepass.SigningKey) error {
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO signing_keys (id, algorithm, private, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Algorithm, k.Private, timeArg(k.CreatedAt), timeArg(k.RetiredAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "signing key already exists")
	} else if err != nil {
		return formatError("insert signing key", err)
	}
	return nil
}

// keysLock is the key of the advisory lock LockKeys takes: "gatepass keys" would
// not fit, so "gpkeys" in ASCII, distinct from the migration lock.
const keysLock = 0x67706b657973

// LockKeys takes a transaction-level advisory lock, so that instances starting at
// once on an empty database, or rotating at once, decide about keys one at a time.
func (tx *tx) LockKeys(ctx context.Context) error {
	if _, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLock); err != nil {
		return formatError("lock keys", err)
	}
	return nil
}

// FindKeys returns every signing key, oldest first; the ID breaks ties between
// keys created in the same microsecond, PostgreSQL having no insertion order.
func (tx *tx) FindKeys(ctx context.Context) ([]*gatepass.SigningKey, error) {
	rows, err := tx.tx.Query(ctx, `
		SELECT id, algorithm, private, created_at, retired_at
		FROM signing_keys
		ORDER BY created_at, id`)
	if err != nil {
		return nil, formatError("query signing keys", err)
	}
	defer rows.Close()

	keys := []*gatepass.SigningKey{}
	for rows.Next() {
		var k gatepass.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private,
			timeColumn{&k.CreatedAt}, timeColumn{&k.RetiredAt}); err != nil {
			return nil, formatError("scan signing key", err)
		}
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError("query signing keys", err)
	}
	return keys, nil
}

// RetireKeys sets RetiredAt on every current key. Returns EINVALID for a zero at,
// which would leave the keys current.
func (tx *tx) RetireKeys(ctx context.Context, at time.Time) error {
	if err := requireTime(at, "retirement"); err != nil {
		return err
	}

	_, err := tx.tx.Exec(ctx, `
		UPDATE signing_keys SET retired_at = $1
		WHERE retired_at IS NULL`,
		timeArg(at))
	if err != nil {
		return formatError("retire signing keys", err)
	}
	return nil
}
