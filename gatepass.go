// Package gatepass holds the domain of the gatepass token service: users, sessions,
// refresh tokens, signing keys, access-token claims, the audit trail, the storage
// contract the engines implement and the error type shared by every layer. It
// imports only the standard library, so every other package can depend on it.
package gatepass

import (
	"strings"
	"time"
)

// Version is the release of gatepass, reported by "gatepass version".
// It is overridden at build time with -ldflags "-X github.com/gatepass/gatepass.Version=...".
var Version = "0.1.0-dev"

// User is an account that can sign in.
type User struct {
	ID    int64
	Name  string
	Email string

	// PasswordHash is the stored hash in PHC string form ("$argon2id$...") or an
	// imported legacy format; never the password itself.
	PasswordHash string

	// Disabled users can neither sign in nor refresh.
	Disabled bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is one sign-in: a family of refresh tokens that rotate into each other.
// Revoking the session ends every token of the family.
type Session struct {
	// ID is random and URL-safe; it is the "sid" claim of every access token the
	// session issues.
	ID       string
	UserID   int64
	ClientID string
	Scope    string

	// UserAgent and IPAddress describe the device that signed in.
	UserAgent string
	IPAddress string

	CreatedAt  time.Time
	LastUsedAt time.Time

	// ExpiresAt is the absolute end of the session: rotation never extends it.
	ExpiresAt time.Time

	// RevokedAt is zero while the session is alive.
	RevokedAt    time.Time
	RevokeReason string
}

// Revoke reasons recorded on a session.
const (
	RevokeLogout   = "logout"
	RevokeReuse    = "reuse"
	RevokeDisabled = "user_disabled"
	RevokePassword = "password_changed"
	RevokeAdmin    = "admin"
)

// Active reports whether the session can still refresh at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored record of one opaque refresh token. Only the SHA-256
// hash of the token is kept, so a leaked database cannot be replayed.
type RefreshToken struct {
	Hash      []byte
	SessionID string

	// Generation counts rotations within the session, starting at 0.
	Generation int64

	CreatedAt time.Time
	ExpiresAt time.Time

	// UsedAt is zero until the token is rotated.
	UsedAt time.Time
}

// SigningKey is a stored key that signs access tokens.
type SigningKey struct {
	// ID is the "kid" header of tokens the key signs.
	ID        string
	Algorithm string

	// Private is the private key in PKCS #8 DER form, or the raw secret for HS256.
	Private []byte

	CreatedAt time.Time

	// RetiredAt is zero for the current key. A retired key no longer signs, but its
	// public half is published until every token it signed has expired.
	RetiredAt time.Time
}

// Current reports whether the key still signs new tokens.
func (k *SigningKey) Current() bool {
	return k.RetiredAt.IsZero()
}

// Scopes returns the session's space-separated scope as a list.
func (s *Session) Scopes() []string {
	return strings.Fields(s.Scope)
}
