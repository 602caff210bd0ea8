package auth

import (
	"context"
	"strconv"

	"github.com/gatepass/gatepass"
)

// Introspection is the RFC 7662 view of a token. Only Active is set for a token that
// is not active, so nothing leaks about tokens the caller should not know.
type Introspection struct {
	Active    bool
	TokenType string // HintAccessToken or HintRefreshToken
	Scope     string
	ClientID  string
	Username  string
	Subject   string
	Audience  []string
	Issuer    string
	ID        string
	SessionID string
	ExpiresAt int64
	IssuedAt  int64
	NotBefore int64
}

// Introspect reports whether a token is active. Unlike local verification it also
// consults the store, so an access token of a revoked session is reported inactive.
func (s *Service) Introspect(ctx context.Context, tok, hint string) (*Introspection, error) {
	tries := []func(context.Context, string) (*Introspection, error){
		s.introspectRefresh, s.introspectAccess}
	if hint == HintAccessToken {
		tries[0], tries[1] = tries[1], tries[0]
	}

	for _, try := range tries {
		in, err := try(ctx, tok)
		if err != nil || in.Active {
			return in, err
		}
	}
	return &Introspection{}, nil
}

func (s *Service) introspectAccess(ctx context.Context, tok string) (*Introspection, error) {
	c, err := s.VerifyAccessToken(tok)
	if err != nil {
		return &Introspection{}, nil
	}

	sess, u, err := s.store.FindSessionWithUser(ctx, c.SessionID)
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return &Introspection{}, nil
	} else if err != nil {
		return nil, err
	} else if !sess.RevokedAt.IsZero() || u.Disabled {
		return &Introspection{}, nil
	}

	return &Introspection{
		Active: true, TokenType: HintAccessToken, Scope: c.Scope, ClientID: c.ClientID,
		Username: c.Username, Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer,
		ID: c.ID, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt, IssuedAt: c.IssuedAt,
		NotBefore: c.NotBefore,
	}, nil
}

func (s *Service) introspectRefresh(ctx context.Context, tok string) (*Introspection, error) {
	if !wellFormedRefreshToken(tok) {
		return &Introspection{}, nil
	}

	var in *Introspection
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		in, err = s.introspectRefreshTx(ctx, tx, tok)
		return err
	})
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		return &Introspection{}, nil
	}
	return in, err
}

func (s *Service) introspectRefreshTx(ctx context.Context, tx gatepass.Tx,
	tok string) (*Introspection, error) {
	rt, err := tx.FindRefreshToken(ctx, hashRefreshToken(tok))
	if err != nil {
		return nil, err
	}
	sess, err := tx.FindSessionByID(ctx, rt.SessionID)
	if err != nil {
		return nil, err
	}
	u, err := tx.FindUserByID(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}

	now := s.now()
	if !rt.UsedAt.IsZero() || !now.Before(rt.ExpiresAt) || !sess.Active(now) || u.Disabled {
		return &Introspection{}, nil
	}
	return &Introspection{
		Active: true, TokenType: HintRefreshToken, Scope: sess.Scope,
		ClientID: sess.ClientID, Username: u.Name, Subject: strconv.FormatInt(u.ID, 10),
		Issuer: s.cfg.Issuer, SessionID: sess.ID, ExpiresAt: rt.ExpiresAt.Unix(),
		IssuedAt: rt.CreatedAt.Unix(),
	}, nil
}
