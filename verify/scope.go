package verify

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatepass/gatepass"
)

// ErrInsufficientScope is the refusal of RequireScope and RequireAnyScope: the
// token is valid but lacks a scope the route needs. The error a WithErrorHandler
// handler receives is an *InsufficientScopeError that wraps it.
var ErrInsufficientScope = &gatepass.Error{Code: gatepass.EFORBIDDEN,
	Message: "the access token lacks a required scope"}

// InsufficientScopeError names the scopes a refused request needed: all of them
// for RequireScope, any one for RequireAnyScope.
type InsufficientScopeError struct {
	Scopes []string
	All    bool
}

// Error implements error.
func (e *InsufficientScopeError) Error() string {
	return ErrInsufficientScope.Error()
}

// Unwrap returns ErrInsufficientScope, for errors.Is and gatepass.ErrorCode.
func (e *InsufficientScopeError) Unwrap() error {
	return ErrInsufficientScope
}

// RequireScope returns middleware that admits only requests whose access token
// grants every one of scopes. Put it inside Verifier.Middleware, which puts the
// claims where it looks; a request without them is answered as one without a
// token. Other requests get 403 with error="insufficient_scope" and the scopes
// needed in WWW-Authenticate (RFC 6750 section 3.1), or, when the Verifier has
// a WithErrorHandler handler, whatever that handler makes of an
// InsufficientScopeError.
//
// RequireScope panics if scopes is empty or holds a string that is not a scope
// (RFC 6749 section 3.3), as ServeMux.Handle panics on a bad pattern: it is a
// mistake in the program.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return requireScopes(scopes, true)
}

// RequireAnyScope is RequireScope for requests whose token grants at least one
// of scopes. The challenge of a refusal lists them all.
func RequireAnyScope(scopes ...string) func(http.Handler) http.Handler {
	return requireScopes(scopes, false)
}

func requireScopes(scopes []string, all bool) func(http.Handler) http.Handler {
	if len(scopes) == 0 {
		panic("verify: no scope required")
	}
	for _, s := range scopes {
		if !validScope(s) {
			panic(fmt.Sprintf("verify: %q is not a valid scope", s))
		}
	}
	scopes = slices.Clone(scopes)
	want := strings.Join(scopes, " ")

	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := gatepass.ClaimsFromContext(r.Context())
			handler, _ := r.Context().Value(errorHandlerKey{}).(ErrorHandler)
			switch {
			case c == nil:
				writeError(w, ErrNoToken)
				return
			case grants(c, scopes, all):
			case handler != nil:
				handler(w, r, &InsufficientScopeError{Scopes: slices.Clone(scopes), All: all})
				return
			default:
				writeInsufficientScope(w, want)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// grants reports whether c grants every one of scopes, or any one unless all.
func grants(c *gatepass.Claims, scopes []string, all bool) bool {
	granted := c.Scopes()
	for _, s := range scopes {
		has := slices.Contains(granted, s)
		if has && !all {
			return true
		} else if !has && all {
			return false
		}
	}
	return all
}

// writeInsufficientScope answers 403 for a token that lacks the scopes in want.
func writeInsufficientScope(w http.ResponseWriter, want string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", `+
		`error_description="the access token lacks a required scope", scope="`+want+`"`)
	writeJSON(w, http.StatusForbidden, errorBody{Error: "insufficient_scope",
		Description: "the access token lacks a required scope", Scope: want})
}

// validScope reports whether s is one scope token: printable ASCII except space,
// double quote and backslash (RFC 6749 section 3.3). That also keeps it safe in
// a quoted header value.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
