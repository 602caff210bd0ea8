package auth

import (
	"context"
	"fmt"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

// ImportedUser is an account brought over from another system with its existing
// password hash (argon2id, bcrypt or Django pbkdf2_sha256). The hash is upgraded to
// argon2id at the user's first sign-in.
type ImportedUser struct {
	Name         string
	Email        string
	PasswordHash string
	Disabled     bool
}

// ImportUsers stores every user in one transaction: either all are imported or,
// when any is invalid or its name taken, none is. The error names the user at
// fault by position (1-based) and name, never by hash. Each imported user gets
// an audit event of its own, so that every user's trail starts at its creation.
func (s *Service) ImportUsers(ctx context.Context, users []ImportedUser) error {
	for i, iu := range users {
		if err := validateUser(iu.Name, iu.Email); err != nil {
			return importError(i, iu.Name, err)
		} else if err := password.CheckHash(iu.PasswordHash); err != nil {
			return importError(i, iu.Name, err)
		}
	}

	now := s.now()
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		for i, iu := range users {
			u := &gatepass.User{Name: iu.Name, Email: iu.Email, PasswordHash: iu.PasswordHash,
				Disabled: iu.Disabled, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return importError(i, iu.Name, err)
			}
			err := s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
				Kind: gatepass.AuditUserImported, UserID: u.ID, Username: u.Name})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.Logger.Info("users imported", attrCount, len(users))
	return nil
}

// importError says which user an import failed on, keeping the error's code.
func importError(i int, name string, err error) error {
	code := gatepass.ErrorCode(err)
	if code == gatepass.EINTERNAL {
		return fmt.Errorf("import user %d: %w", i+1, err)
	}
	return gatepass.Errorf(code, "user %d (%q): %s", i+1, name, gatepass.ErrorMessage(err))
}
