package verify

import (
	"context"
	"time"

	"github.com/gatepass/gatepass"
)

// The accessors below read the claims Verifier.Middleware put in a request's
// context. Without claims they return the zero value, as for a route the
// middleware does not guard.

// ClaimsFrom returns the verified claims of the request's access token, or nil.
// It is gatepass.ClaimsFromContext, here so that handlers need one import.
func ClaimsFrom(ctx context.Context) *gatepass.Claims {
	return gatepass.ClaimsFromContext(ctx)
}

// Subject returns the "sub" claim, the user's id, or "".
func Subject(ctx context.Context) string {
	if c := ClaimsFrom(ctx); c != nil {
		return c.Subject
	}
	return ""
}

// Username returns the "preferred_username" claim, or "".
func Username(ctx context.Context) string {
	if c := ClaimsFrom(ctx); c != nil {
		return c.Username
	}
	return ""
}

// SessionID returns the "sid" claim, the session the token belongs to, or "".
func SessionID(ctx context.Context) string {
	if c := ClaimsFrom(ctx); c != nil {
		return c.SessionID
	}
	return ""
}

// Scopes returns the scopes the token grants, or nil.
func Scopes(ctx context.Context) []string {
	if c := ClaimsFrom(ctx); c != nil {
		return c.Scopes()
	}
	return nil
}

// HasScope reports whether the token grants scope.
func HasScope(ctx context.Context, scope string) bool {
	c := ClaimsFrom(ctx)
	return c != nil && c.HasScope(scope)
}

// ExpiresAt returns when the token expires, or the zero time.
func ExpiresAt(ctx context.Context) time.Time {
	if c := ClaimsFrom(ctx); c != nil {
		return time.Unix(c.ExpiresAt, 0)
	}
	return time.Time{}
}
