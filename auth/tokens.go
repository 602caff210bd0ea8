package auth

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

// Client describes who is calling, for sessions and logs.
type Client struct {
	// ID is the OAuth client_id; empty means the configured default.
	ID        string
	IPAddress string
	UserAgent string
}

// TokenPair is what a sign-in or a refresh hands out.
type TokenPair struct {
	AccessToken     string
	AccessExpiresAt time.Time

	// ExpiresIn is the access token's lifetime in whole seconds, for "expires_in".
	ExpiresIn int64

	RefreshToken     string
	RefreshExpiresAt time.Time

	Scope     string
	SessionID string
	UserID    int64

	// User is the account the pair was issued to, as read in the same transaction.
	User *gatepass.User
}

// issueAccessToken signs an access token for a session.
func (s *Service) issueAccessToken(u *gatepass.User, sess *gatepass.Session, scope string,
	now time.Time) (string, time.Time, error) {
	jti, err := s.randomString(16)
	if err != nil {
		return "", time.Time{}, err
	}

	exp := now.Add(s.cfg.AccessTTL)
	claims := &gatepass.Claims{
		Issuer:    s.cfg.Issuer,
		Subject:   strconv.FormatInt(u.ID, 10),
		Audience:  gatepass.Audience{s.cfg.Audience},
		ExpiresAt: exp.Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ID:        jti,
		SessionID: sess.ID,
		Scope:     scope,
		ClientID:  sess.ClientID,
		Username:  u.Name,
	}
	tok, err := s.keys.Load().signer.Sign(claims)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return tok, time.Unix(exp.Unix(), 0).UTC(), nil
}

// pair assembles a TokenPair once the refresh side is settled.
func (s *Service) pair(u *gatepass.User, sess *gatepass.Session, scope, refresh string,
	refreshExp, now time.Time) (*TokenPair, error) {
	access, exp, err := s.issueAccessToken(u, sess, scope, now)
	if err != nil {
		return nil, err
	}
	return &TokenPair{
		AccessToken:      access,
		AccessExpiresAt:  exp,
		ExpiresIn:        int64(s.cfg.AccessTTL / time.Second),
		RefreshToken:     refresh,
		RefreshExpiresAt: refreshExp,
		Scope:            scope,
		SessionID:        sess.ID,
		UserID:           u.ID,
		User:             u,
	}, nil
}

// grantScope decides the scope of a new session. An empty request gets every
// allowed scope; otherwise each requested scope must be allowed.
func (s *Service) grantScope(requested string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(s.cfg.Scopes, " "), nil
	}
	return narrowScope(requested, s.cfg.Scopes)
}

// narrowScope returns requested, normalised, if every scope in it is in allowed.
func narrowScope(requested string, allowed []string) (string, error) {
	var granted []string
	for _, sc := range strings.Fields(requested) {
		if !slices.Contains(allowed, sc) {
			return "", gatepass.ErrInvalidScope
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return strings.Join(granted, " "), nil
}

// clientID returns the client id to record, checking its shape.
func (s *Service) clientID(c Client) (string, error) {
	if c.ID == "" {
		return s.cfg.ClientID, nil
	} else if !clientIDPattern.MatchString(c.ID) {
		return "", gatepass.Errorf(gatepass.EINVALID,
			"client_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	}
	return c.ID, nil
}

// truncate keeps request metadata stored in sessions to a sane size.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
