package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

const userColumns = `id, name, email, password_hash, disabled, created_at, updated_at`

// CreateUser inserts u and sets its ID.
func (tx *tx) CreateUser(ctx context.Context, u *gatepass.User) error {
	err := tx.tx.QueryRow(ctx, `
		INSERT INTO users (name, email, password_hash, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		u.Name, u.Email, u.PasswordHash, u.Disabled,
		timeArg(u.CreatedAt), timeArg(u.UpdatedAt),
	).Scan(&u.ID)
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "user name is already taken")
	} else if err != nil {
		return formatError("insert user", err)
	}
	return nil
}

// FindUserByID returns the user with id.
func (tx *tx) FindUserByID(ctx context.Context, id int64) (*gatepass.User, error) {
	return tx.findUser(ctx, "id = @id", pgx.NamedArgs{"id": id})
}

// FindUserByName returns the user named name. Names match exactly (case matters).
func (tx *tx) FindUserByName(ctx context.Context, name string) (*gatepass.User, error) {
	return tx.findUser(ctx, "name = @name", pgx.NamedArgs{"name": name})
}

func (tx *tx) findUser(ctx context.Context, where string,
	args pgx.NamedArgs) (*gatepass.User, error) {
	users, err := tx.findUsers(ctx, []string{where}, args, 0, 0)
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
	args := pgx.NamedArgs{}
	if v := filter.Name; v != nil {
		where, args["name"] = append(where, "name = @name"), *v
	}
	return tx.findUsers(ctx, where, args, filter.Offset, filter.Limit)
}

// findUsers selects users matching every condition in where, ordered by name.
// COLLATE "C" orders by code point, whatever the database's collation, as the
// SQLite engine does.
func (tx *tx) findUsers(ctx context.Context, where []string, args pgx.NamedArgs,
	offset, limit int) ([]*gatepass.User, error) {
	where = append(where, "true")
	args["limit"], args["offset"] = limitArg(limit), offset
	rows, err := tx.tx.Query(ctx, `
		SELECT `+userColumns+`
		FROM users
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY name COLLATE "C"
		LIMIT @limit OFFSET @offset`,
		args)
	if err != nil {
		return nil, formatError("query users", err)
	}
	defer rows.Close()

	users := []*gatepass.User{}
	for rows.Next() {
		var u gatepass.User
		if err := rows.Scan(userFields(&u)...); err != nil {
			return nil, formatError("scan user", err)
		}
		users = append(users, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError("query users", err)
	}
	return users, nil
}

// UpdateUser applies the non-nil fields of upd and a non-zero UpdatedAt. With
// nothing to change it only checks that the user exists.
func (tx *tx) UpdateUser(ctx context.Context, id int64, upd gatepass.UserUpdate) error {
	var set []string
	args := pgx.NamedArgs{"id": id}
	if v := upd.Email; v != nil {
		set, args["email"] = append(set, "email = @email"), *v
	}
	if v := upd.PasswordHash; v != nil {
		set, args["password_hash"] = append(set, "password_hash = @password_hash"), *v
	}
	if v := upd.Disabled; v != nil {
		set, args["disabled"] = append(set, "disabled = @disabled"), *v
	}
	if !upd.UpdatedAt.IsZero() {
		set, args["updated_at"] = append(set, "updated_at = @updated_at"), timeArg(upd.UpdatedAt)
	}
	if len(set) == 0 {
		_, err := tx.FindUserByID(ctx, id)
		return err
	}

	n, err := tx.exec(ctx,
		`UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = @id`, args)
	if err != nil {
		return formatError("update user", err)
	} else if n == 0 {
		return gatepass.Errorf(gatepass.ENOTFOUND, "user not found")
	}
	return nil
}

// userFields are the scan destinations of userColumns.
func userFields(u *gatepass.User) []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.PasswordHash, &u.Disabled,
		timeColumn{&u.CreatedAt}, timeColumn{&u.UpdatedAt}}
}
