package auth

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
)

// TestLogin_changeBetweenCheckAndSession covers the window between the password
// check and the session's creation: a password change or a disable made there must
// win over the sign-in. The window is opened by calling the two steps by hand.
func TestLogin_changeBetweenCheckAndSession(t *testing.T) {
	tests := []struct {
		name   string
		change func(ctx context.Context, s *Service) error
	}{
		{name: "password-changed", change: func(ctx context.Context, s *Service) error {
			return s.SetPassword(ctx, "alice", "a-brand-new-password")
		}},
		{name: "disabled", change: func(ctx context.Context, s *Service) error {
			return s.SetDisabled(ctx, "alice", true)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openInternalService(t)
			if _, err := s.CreateUser(ctx, NewUser{Name: "alice",
				Password: "alice-password"}); err != nil {
				t.Fatal(err)
			}

			req := LoginRequest{Username: "alice", Password: "alice-password"}
			checked, err := s.checkPassword(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.change(ctx, s); err != nil {
				t.Fatal(err)
			}

			_, err = s.startSession(ctx, checked, "", "gatepass", Client{})
			if !errors.Is(err, gatepass.ErrInvalidCredentials) {
				t.Errorf("session after the change: err = %v, want ErrInvalidCredentials",
					err)
			}
			sessions, err := s.FindSessions(ctx, checked.user.ID)
			if err != nil || len(sessions) != 0 {
				t.Errorf("sessions = %v, %v; want none", sessions, err)
			}
		})
	}
}

func openInternalService(tb testing.TB) *Service {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	h := password.NewHasher(0)
	h.Time, h.Memory = 1, 64
	s := NewService(db, h, DefaultConfig())
	s.Logger = slog.New(slog.DiscardHandler)
	if err := s.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}
