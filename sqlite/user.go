package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatepass/gatepass"
)

const userColumns = `id, name, email, password_hash, disabled, created_at, updated_at`

// userFields returns the scan destinations of userColumns, in order.
func userFields(u *gatepass.User) []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.PasswordHash, &u.Disabled,
		timeColumn{&u.CreatedAt}, timeColumn{&u.UpdatedAt}}
}

// CreateUser inserts u and sets its ID.
func (tx *tx) CreateUser(ctx context.Context, u *gatepass.User) error {
	res, err := tx.execContext(ctx, `
		INSERT INTO users (name, email, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		u.Name, u.Email, u.PasswordHash, u.Disabled,
		timeArg(u.CreatedAt), timeArg(u.UpdatedAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "user name is already taken")
	} else if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}

	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("user id: %w", err)
	}
	u.ID = id
	return nil
}

// FindUserByID returns the user with id.
func (tx *tx) FindUserByID(ctx context.Context, id int64) (*gatepass.User, error) {
	return tx.findUser(ctx, "id = ?", id)
}

// FindUserByName returns the user named name. Names match exactly (case matters).
func (tx *tx) FindUserByName(ctx context.Context, name string) (*gatepass.User, error) {
	return tx.findUser(ctx, "name = ?", name)
}

func (tx *tx) findUser(ctx context.Context, where string, arg any) (*gatepass.User, error) {
	users, err := tx.findUsers(ctx, []string{where}, []any{arg}, 0, 0)
	if err != nil {
		return nil, err
	} else if len(users) == 0 {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "user not found")
	}
	return users[0], nil
}

// FindUsers lists the users filter selects, ordered by name.
func (tx *tx) FindUsers(ctx context.Context,
	filter gatepass.UserFilter) ([]*gatepass.User, error) {
	var where []string
	var args []any
	if v := filter.Name; v != nil {
		where, args = append(where, "name = ?"), append(args, *v)
	}
	return tx.findUsers(ctx, where, args, filter.Offset, filter.Limit)
}

// findUsers selects users matching every condition in where, ordered by name.
func (tx *tx) findUsers(ctx context.Context, where []string, args []any,
	offset, limit int) ([]*gatepass.User, error) {
	where = append(where, "1 = 1")
	args = append(args, limitArg(limit), offset)
	rows, err := tx.queryContext(ctx, `
		SELECT `+userColumns+`
		FROM users
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY name
		LIMIT ? OFFSET ?`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	defer rows.Close()

	users := []*gatepass.User{}
	for rows.Next() {
		var u gatepass.User
		if err := rows.Scan(userFields(&u)...); err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	return users, nil
}

// UpdateUser applies the non-nil fields of upd and a non-zero UpdatedAt. With
// nothing to change it only checks that the user exists.
func (tx *tx) UpdateUser(ctx context.Context, id int64, upd gatepass.UserUpdate) error {
	var set []string
	var args []any
	if v := upd.Email; v != nil {
		set, args = append(set, "email = ?"), append(args, *v)
	}
	if v := upd.PasswordHash; v != nil {
		set, args = append(set, "password_hash = ?"), append(args, *v)
	}
	if v := upd.Disabled; v != nil {
		set, args = append(set, "disabled = ?"), append(args, *v)
	}
	if !upd.UpdatedAt.IsZero() {
		set, args = append(set, "updated_at = ?"), append(args, timeArg(upd.UpdatedAt))
	}
	if len(set) == 0 {
		_, err := tx.FindUserByID(ctx, id)
		return err
	}

	res, err := tx.execContext(ctx,
		`UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = ?`,
		append(args, id)...)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return gatepass.Errorf(gatepass.ENOTFOUND, "user not found")
	}
	return nil
}
