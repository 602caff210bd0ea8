package gatepass

import "context"

type contextKey int

const claimsKey contextKey = iota

// NewContextWithClaims returns a copy of ctx carrying the verified claims of the
// request's access token.
func NewContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey, c)
}

// ClaimsFromContext returns the verified claims stored in ctx, or nil.
func ClaimsFromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey).(*Claims)
	return c
}
