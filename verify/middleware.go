package verify

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/gatepass/gatepass"
)

// ErrorHandler answers a request that the middleware refuses. err is ErrNoToken,
// ErrCrossOrigin, ErrCSRFToken, one of the token.ErrXxx errors or, from
// RequireScope and RequireAnyScope, an *InsufficientScopeError; all are or wrap
// *gatepass.Error values whose message is safe to show to the client.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// Refusals of the middleware other than an invalid token.
var (
	// ErrNoToken means the request carries no access token: no Authorization:
	// Bearer header and no access cookie, or the cookie more than once.
	ErrNoToken = &gatepass.Error{Code: gatepass.EUNAUTHORIZED,
		Message: "an access token is required, as a bearer token or in the access cookie"}

	// ErrCrossOrigin means that a state-changing request authenticated by the
	// access cookie came from a page on another origin, and may be forged.
	ErrCrossOrigin = &gatepass.Error{Code: gatepass.EFORBIDDEN,
		Message: "origin check failed: the request does not come from an allowed origin"}

	// ErrCSRFToken means that, with WithCSRFCookie, a state-changing request
	// authenticated by the access cookie lacked an X-CSRF-Token header equal to
	// the CSRF cookie, and may be forged.
	ErrCSRFToken = &gatepass.Error{Code: gatepass.EFORBIDDEN,
		Message: "csrf token check failed: X-CSRF-Token must match the CSRF cookie"}
)

// credential says where a request's token came from.
type credential int

const (
	credentialNone credential = iota
	credentialBearer
	credentialCookie
)

// Middleware admits only requests with a valid access token, verified by Verify,
// and puts its claims in the request context for ClaimsFrom and
// gatepass.ClaimsFromContext.
//
// The token is that of an Authorization: Bearer header (RFC 6750 section 2.1,
// the scheme in any case) or, failing that, of the access cookie; any other
// scheme, such as the Basic a browser may send on its own, leaves the cookie in
// charge. A cookie sent twice under its name is refused, as the server refuses
// it: the second may have been planted by a sibling subdomain.
//
// A browser sends cookies whoever made the page, so a request the cookie
// authenticates may be forged by another site. The access cookie is SameSite=Lax,
// which keeps other sites' POSTs from carrying it, but a sibling subdomain counts
// as the same site. So a cookie-authenticated request with an unsafe method
// (anything but GET, HEAD and OPTIONS) is refused with ErrCrossOrigin when the
// browser says it comes from another origin, through Sec-Fetch-Site or an Origin
// that does not match Host (see http.CrossOriginProtection), unless
// WithTrustedOrigins lists that origin; with WithCSRFCookie, such a request must
// also carry the double-submit token, or it is refused with ErrCSRFToken.
// Handlers of safe methods must therefore change nothing. Bearer tokens need no
// such check: a browser never adds one on its own.
//
// Refusals are answered with a JSON body {"error", "error_description"} and
// Cache-Control: no-store: no token is 401 with "WWW-Authenticate: Bearer" and no
// error code (RFC 6750 section 3.1), an invalid token is 401 with
// error="invalid_token", a forged request is 403. WithErrorHandler replaces
// these answers. Put a CORS handler, if any, outside the middleware: preflight
// requests carry no token.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, cred := v.requestToken(r)
		if cred == credentialNone {
			v.refuse(w, r, ErrNoToken)
			return
		}
		if cred == credentialCookie {
			if err := v.origins.Check(r); err != nil {
				v.logger.Warn("cross-origin request refused", attrReason, "foreign_origin",
					attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
				v.refuse(w, r, ErrCrossOrigin)
				return
			}
			if reason := v.checkCSRFToken(r); reason != "" {
				v.logger.Warn("cross-origin request refused", attrReason, reason,
					attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
				v.refuse(w, r, ErrCSRFToken)
				return
			}
		}

		// Refusals are logged at Debug: whoever sends forged tokens decides how
		// many of these lines are written.
		claims, err := v.Verify(r.Context(), tok)
		if err != nil {
			v.logger.Debug("access token rejected", attrReason, gatepass.ErrorMessage(err),
				attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
			v.refuse(w, r, err)
			return
		}
		ctx := gatepass.NewContextWithClaims(r.Context(), claims)
		if v.opts.errorHandler != nil {
			ctx = context.WithValue(ctx, errorHandlerKey{}, v.opts.errorHandler)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// checkCSRFToken returns "" when WithCSRFCookie is off, the method is safe, or
// the X-CSRF-Token header equals the one CSRF cookie; otherwise the reason to
// log. A cookie sent twice counts as missing, as the access cookie does. The
// comparison takes constant time.
func (v *Verifier) checkCSRFToken(r *http.Request) string {
	if v.opts.csrfCookieName == "" || safeMethod(r.Method) {
		return ""
	}

	given := r.Header.Get(headerCSRFToken)
	cookies := r.CookiesNamed(v.opts.csrfCookieName)
	switch {
	case given == "" || len(cookies) != 1 || cookies[0].Value == "":
		return "csrf_token_missing"
	case subtle.ConstantTimeCompare([]byte(given), []byte(cookies[0].Value)) != 1:
		return "csrf_token_mismatch"
	}
	return ""
}

// headerCSRFToken carries the double-submit token (see WithCSRFCookie).
const headerCSRFToken = "X-CSRF-Token"

// safeMethod reports whether a request with method m changes nothing (RFC 9110
// section 9.2.1), so that the access cookie may authenticate it alone.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// errorHandlerKey is the context key under which Middleware leaves the
// WithErrorHandler handler for RequireScope, which cannot reach the Verifier.
type errorHandlerKey struct{}

// requestToken returns the access token of r and where it came from. A bearer
// token wins, so an API client is never mistaken for the browser whose cookies
// it happens to carry.
func (v *Verifier) requestToken(r *http.Request) (string, credential) {
	if tok, ok := bearerToken(r); ok {
		return tok, credentialBearer
	}
	if v.opts.cookieName == "" {
		return "", credentialNone
	}

	cookies := r.CookiesNamed(v.opts.cookieName)
	switch {
	case len(cookies) > 1:
		v.logger.Warn("duplicate cookie refused", attrReason, "cookie_planted",
			attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
	case len(cookies) == 1 && cookies[0].Value != "":
		return cookies[0].Value, credentialCookie
	}
	return "", credentialNone
}

// bearerToken returns the token of an Authorization: Bearer header. RFC 6750
// section 2.1 names the scheme, and RFC 9110 section 11.1 makes it
// case-insensitive.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// clientIP is the address the request came from, for the log. Headers such as
// X-Forwarded-For are not trusted: any client can send them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// refuse answers a refused request, through the configured error handler if any.
func (v *Verifier) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if v.opts.errorHandler != nil {
		v.opts.errorHandler(w, r, err)
		return
	}
	writeError(w, err)
}

// errorBody is the body of every refusal, in the shape of the server's.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// writeError answers ErrNoToken, ErrCrossOrigin, ErrCSRFToken or a token error.
// Anything else is answered as an invalid token with the generic message, so
// nothing unexpected reaches the client.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNoToken):
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeJSON(w, http.StatusUnauthorized,
			errorBody{Error: "unauthorized", Description: ErrNoToken.Message})
		return
	case errors.Is(err, ErrCrossOrigin), errors.Is(err, ErrCSRFToken):
		writeJSON(w, http.StatusForbidden, errorBody{Error: "invalid_request",
			Description: gatepass.ErrorMessage(err)})
		return
	case gatepass.ErrorCode(err) != gatepass.EINVALIDTOKEN:
		err = gatepass.ErrInvalidToken
	}

	msg := gatepass.ErrorMessage(err)
	w.Header().Set("WWW-Authenticate",
		`Bearer error="invalid_token", error_description="`+headerSafe(msg)+`"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: "invalid_token", Description: msg})
}

// headerSafe keeps only the characters RFC 6750 section 3 allows in a quoted
// error_description, so a message can never break the header.
func headerSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return -1
		}
		return c
	}, s)
}

// writeJSON writes body with status. A refusal must never be cached.
func writeJSON(w http.ResponseWriter, status int, body errorBody) {
	b, _ := json.Marshal(body) // a struct of strings always encodes
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
