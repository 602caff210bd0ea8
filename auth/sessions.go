package auth

import (
	"context"
	"strconv"
	"strings"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

// Logout scopes, as in POST /auth/logout?scope=...
const (
	LogoutLocal  = "local"  // the session of the presented token
	LogoutOthers = "others" // every other session of the user
	LogoutGlobal = "global" // every session of the user
)

// UserID returns the user an access token was issued to.
func UserID(c *gatepass.Claims) (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return 0, gatepass.ErrInvalidToken
	}
	return id, nil
}

// FindSessions lists the user's live sessions, newest first.
func (s *Service) FindSessions(ctx context.Context, userID int64) ([]*gatepass.Session,
	error) {
	now := s.now()
	var sessions []*gatepass.Session
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		sessions, err = tx.FindSessions(ctx, gatepass.SessionFilter{UserID: &userID,
			ActiveAt: &now})
		return err
	})
	return sessions, err
}

// CountActiveSessions returns how many sessions, of every user, can still refresh:
// not revoked and not expired.
func (s *Service) CountActiveSessions(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		n, err = tx.CountActiveSessions(ctx, now)
		return err
	})
	return n, err
}

// errSessionNotFound answers for unknown sessions and other users' alike.
var errSessionNotFound = gatepass.Errorf(gatepass.ENOTFOUND, "session not found")

// RevokeUserSession revokes one of the user's own sessions. Returns ENOTFOUND when
// the session is not the user's, so nobody learns which ids exist.
func (s *Service) RevokeUserSession(ctx context.Context, userID int64, sid string) error {
	revoked := false
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		sess, err := tx.LockSession(ctx, sid)
		if err != nil {
			return err
		} else if sess.UserID != userID {
			return errSessionNotFound
		}
		revoked, err = s.revokeTx(ctx, tx, sid, gatepass.RevokeLogout, s.now())
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return errSessionNotFound
	} else if err != nil {
		return err
	}
	s.Logger.Info("session revoked", attrSessionID, sid, attrUserID, userID,
		attrReason, gatepass.RevokeLogout)
	if revoked {
		s.noteRevoked(sid)
		s.sessionsRevoked(gatepass.RevokeLogout, 1)
	}
	return nil
}

// Logout ends the session of c (LogoutLocal), the user's other sessions
// (LogoutOthers) or all of them (LogoutGlobal), and returns how many it ended.
func (s *Service) Logout(ctx context.Context, c *gatepass.Claims, scope string) (int, error) {
	userID, err := UserID(c)
	if err != nil {
		return 0, err
	}

	switch scope {
	case LogoutLocal, "":
		return 1, s.RevokeSession(ctx, c.SessionID, gatepass.RevokeLogout)
	case LogoutOthers:
		return s.RevokeUserSessions(ctx, userID, c.SessionID, gatepass.RevokeLogout)
	case LogoutGlobal:
		return s.RevokeUserSessions(ctx, userID, "", gatepass.RevokeLogout)
	}
	return 0, gatepass.FieldError("scope", "scope must be local, others or global")
}

// SignUp creates an account from a self-service form and signs it in. The password
// must pass password.ValidateNew: long enough, not common, not the user's name.
func (s *Service) SignUp(ctx context.Context, nu NewUser, c Client) (*TokenPair, error) {
	if err := validateUser(nu.Name, nu.Email); err != nil {
		return nil, err
	} else if err := password.ValidateNew(nu.Password, nu.Name, nu.Email); err != nil {
		return nil, err
	}
	clientID, err := s.clientID(c)
	if err != nil {
		return nil, err
	}

	// The client goes with the context so that the user_created event names it.
	u, err := s.CreateUser(NewContextWithClient(ctx, c), nu)
	if gatepass.ErrorCode(err) == gatepass.ECONFLICT {
		return nil, &gatepass.Error{Code: gatepass.ECONFLICT,
			Message: "username is already taken",
			Fields:  map[string]string{"username": "username is already taken"}}
	} else if err != nil {
		return nil, err
	}
	return s.startSession(ctx, &checkedUser{user: u}, strings.Join(s.cfg.Scopes, " "),
		clientID, c)
}

// Me returns the user and session behind verified access-token claims. Unlike local
// verification it sees revocation: a token of a signed-out session, a disabled user
// or a deleted one gets ErrInvalidToken.
func (s *Service) Me(ctx context.Context, c *gatepass.Claims) (*gatepass.User,
	*gatepass.Session, error) {
	userID, err := UserID(c)
	if err != nil {
		return nil, nil, err
	}

	// Every authenticated account request comes here, so the two rows are read
	// in the store's one-statement lookup rather than a transaction.
	sess, u, err := s.store.FindSessionWithUser(ctx, c.SessionID)
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return nil, nil, gatepass.ErrInvalidToken
	} else if err != nil {
		return nil, nil, err
	} else if u.Disabled || !sess.RevokedAt.IsZero() || sess.UserID != userID {
		return nil, nil, gatepass.ErrInvalidToken
	}
	return u, sess, nil
}
