package auth

import (
	"context"
	"net/mail"
	"regexp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

// userNamePattern keeps user names printable, short and unambiguous in logs.
var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

// NewUser describes an account to create.
type NewUser struct {
	Name     string
	Email    string
	Password string
}

// CreateUser validates and stores a new account with an argon2id password hash.
// Returns EINVALID for a bad name, e-mail or password and ECONFLICT for a taken name.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*gatepass.User, error) {
	if err := validateUser(nu.Name, nu.Email); err != nil {
		return nil, err
	} else if err := password.Validate(nu.Password); err != nil {
		return nil, err
	}

	hash, err := s.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return nil, err
	}

	now := s.now()
	u := &gatepass.User{Name: nu.Name, Email: nu.Email, PasswordHash: hash,
		CreatedAt: now, UpdatedAt: now}
	err = s.store.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
			Kind: gatepass.AuditUserCreated, UserID: u.ID, Username: u.Name})
	})
	if err != nil {
		return nil, err
	}
	s.Logger.Info("user created", attrUserID, u.ID)
	return u, nil
}

func validateUser(name, email string) error {
	if !userNamePattern.MatchString(name) {
		return gatepass.FieldError("username",
			"username must be 1-64 characters of A-Z a-z 0-9 . _ @ + -")
	}
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			return gatepass.FieldError("email", "email is not a valid address")
		}
	}
	return nil
}

// SetPassword replaces a user's password and revokes all of the user's sessions,
// so whoever knew the old password is signed out.
func (s *Service) SetPassword(ctx context.Context, name, pw string) error {
	if err := password.Validate(pw); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}

	return s.updateUser(ctx, name, gatepass.AuditPasswordChanged, gatepass.RevokePassword,
		func(upd *gatepass.UserUpdate) { upd.PasswordHash = &hash })
}

// SetDisabled disables or re-enables a user. Disabling revokes every session, and a
// disabled user can neither sign in nor refresh.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) error {
	kind, reason := gatepass.AuditUserEnabled, ""
	if disabled {
		kind, reason = gatepass.AuditUserDisabled, gatepass.RevokeDisabled
	}
	return s.updateUser(ctx, name, kind, reason, func(upd *gatepass.UserUpdate) {
		upd.Disabled = &disabled
	})
}

// updateUser changes a user found by name, records an audit event of kind and,
// when reason is set, revokes all of the user's sessions in the same transaction.
func (s *Service) updateUser(ctx context.Context, name, kind, reason string,
	change func(*gatepass.UserUpdate)) error {
	var revoked int
	var id int64
	var ids []string
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		u, err := tx.FindUserByName(ctx, name)
		if err != nil {
			return err
		}
		id = u.ID

		now := s.now()
		upd := gatepass.UserUpdate{UpdatedAt: now}
		change(&upd)
		if err := tx.UpdateUser(ctx, u.ID, upd); err != nil {
			return err
		}
		err = s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
			Kind: kind, UserID: u.ID, Username: u.Name})
		if err == nil && reason != "" {
			revoked, err = s.revokeSessionsTx(ctx, tx, u.ID, "", now, reason)
		}
		if err == nil && revoked > 0 {
			ids, err = s.revokedTx(ctx, tx, now)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.noteRevoked(ids...)
	s.Logger.Info("user updated", attrUserID, id, attrCount, revoked,
		attrReason, reason)
	s.sessionsRevoked(reason, revoked)
	return nil
}

// FindUsers lists users by name.
func (s *Service) FindUsers(ctx context.Context, filter gatepass.UserFilter) ([]*gatepass.User,
	error) {
	var users []*gatepass.User
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		users, err = tx.FindUsers(ctx, filter)
		return err
	})
	return users, err
}

// FindUserByID returns a user, or ENOTFOUND.
func (s *Service) FindUserByID(ctx context.Context, id int64) (*gatepass.User, error) {
	var u *gatepass.User
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		u, err = tx.FindUserByID(ctx, id)
		return err
	})
	return u, err
}
