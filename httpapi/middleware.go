package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gatepass/gatepass"
)

// errMissingToken answers a request to a protected endpoint that carries no token.
// RFC 6750 section 3.1 says such a challenge carries no error code.
var errMissingToken = gatepass.Errorf(codeMissingToken,
	"an access token is required, as a bearer token or in the access cookie")

// statusRecorder remembers the status a handler sent, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first final status and passes it on.
func (rec *statusRecorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

// Write passes b on; a body without a status means 200.
func (rec *statusRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (rec *statusRecorder) Unwrap() http.ResponseWriter {
	return rec.ResponseWriter
}

// logRequests writes one access record per request at Debug, and tells
// Server.Requests. It records the route pattern, never the path or query, which
// may carry identifiers or credentials, and no header.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorders.Get().(*statusRecorder)
		rec.ResponseWriter, rec.status = w, 0
		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		d := time.Since(start)
		if s.Requests != nil {
			s.Requests.ObserveRequest(r.Pattern, r.Method, status, d)
		}
		s.logRequest(r, status, d)

		// A handler must not use its writer once it returns, so the recorder
		// can serve another request. After a panic it is dropped instead.
		rec.ResponseWriter = nil
		recorders.Put(rec)
	})
}

// recorders holds statusRecorders between requests.
var recorders = sync.Pool{New: func() any { return new(statusRecorder) }}

// logRequest writes the access record of r, when Debug is on.
func (s *Server) logRequest(r *http.Request, status int, d time.Duration) {
	ctx := r.Context()
	if !s.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	s.Logger.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String(attrMethod, r.Method),
		slog.String(attrRoute, r.Pattern),
		slog.Int(attrStatus, status),
		slog.Duration(attrDuration, d),
		slog.String(attrClientIP, clientIP(r)))
}

// recoverPanics turns a panic into a logged error and a generic 500. It expects to
// run inside logRequests: when the handler had already started its answer, the
// connection is cut instead, so a client never takes a truncated body as whole.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			} else if v == http.ErrAbortHandler {
				panic(v)
			}

			s.Logger.Error("panic serving request", attrMethod, r.Method,
				attrRoute, r.Pattern, attrPanic, fmt.Sprint(v),
				attrStack, string(debug.Stack()))
			if rec, ok := w.(*statusRecorder); ok && rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			// Whatever the handler set, a 500 must not be cached.
			setNoStore(w.Header())
			writeJSON(w, http.StatusInternalServerError,
				errorResponse{Error: internalError.name, Description: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// The headers securityHeaders sets on every answer.
const (
	headerContentTypeOptions = "X-Content-Type-Options"
	headerReferrerPolicy     = "Referrer-Policy"
	headerFrameOptions       = "X-Frame-Options"
)

// securityHeaders sets headers that cost nothing and keep a browser from sniffing,
// framing or leaking the referrer of any response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setValue(h, headerContentTypeOptions, valueNoSniff)
		setValue(h, headerReferrerPolicy, valueNoReferrer)
		setValue(h, headerFrameOptions, valueDeny)
		next.ServeHTTP(w, r)
	})
}

// dropPageHeaders removes the headers securityHeaders set that guard a page a
// browser shows, for an answer that has no body and that no browser is shown.
// It keeps X-Content-Type-Options: without it, an empty answer with no type
// would run as a script, and a page of the same site could tell a signed-in
// visitor, whose cookie earns a 200, from one who gets a refusal.
func dropPageHeaders(h http.Header) {
	delete(h, headerReferrerPolicy)
	delete(h, headerFrameOptions)
}

// credential says how a request proved who it is.
type credential int

const (
	credentialNone credential = iota
	credentialBearer
	credentialCookie
)

type contextKey int

const credentialKey contextKey = iota

// newContextWithCredential returns a copy of ctx that records how the request was
// authenticated.
func newContextWithCredential(ctx context.Context, c credential) context.Context {
	return context.WithValue(ctx, credentialKey, c)
}

// credentialFromContext returns how the request was authenticated, or
// credentialNone.
func credentialFromContext(ctx context.Context) credential {
	c, _ := ctx.Value(credentialKey).(credential)
	return c
}

// requireAccess admits only requests with a valid access token and puts its
// claims and the kind of credential in the request context. The token comes from
// the Authorization header (RFC 6750 section 2.1) or, failing that, from the
// access cookie; a cookie-authenticated state change must also pass the CSRF
// checks. The token is verified locally, without a database call.
func (s *Server) requireAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, cred := s.accessToken(r)
		if cred != credentialBearer && !safeMethod(r.Method) && !s.allowOrigin(w, r) {
			// A forged request carries no cookie (SameSite), so refuse it as
			// forged before saying that it is unauthenticated.
			return
		} else if cred == credentialNone {
			s.writeError(w, r, errMissingToken)
			return
		} else if cred == credentialCookie && !safeMethod(r.Method) &&
			!s.allowCookieRequest(w, r) {
			return
		}

		claims, err := s.svc.VerifyAccessToken(tok)
		if err != nil {
			s.rejectToken(w, r, err, gatepass.ErrorMessage(err))
			return
		}

		ctx := gatepass.NewContextWithClaims(r.Context(), claims)
		ctx = newContextWithCredential(ctx, cred)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// accessToken returns the access token of r and where it came from. A bearer
// token wins, so an API client is never mistaken for the browser whose cookies it
// happens to carry; any other Authorization scheme, such as the Basic a browser
// sends to a site behind a password, leaves the cookie in charge.
func (s *Server) accessToken(r *http.Request) (string, credential) {
	if tok, ok := bearerToken(r); ok {
		return tok, credentialBearer
	}
	if v := s.cookieValue(r, accessCookie); v != "" {
		return v, credentialCookie
	}
	return "", credentialNone
}

// rejectToken logs a refused access token and answers 401 invalid_token. An error
// without the invalid-token code is answered with the generic message, so nothing
// unexpected reaches the client.
func (s *Server) rejectToken(w http.ResponseWriter, r *http.Request, err error,
	reason string) {
	if gatepass.ErrorCode(err) != gatepass.EINVALIDTOKEN {
		err = gatepass.ErrInvalidToken
	}
	s.logRejectedToken(r, reason)
	s.writeError(w, r, err)
}

// logRejectedToken records a refused access token at Debug, not Warn: anyone can
// send forged tokens, so whoever sends them decides how many of these lines are
// written, and a flood of them must not drown the warnings that matter.
func (s *Server) logRejectedToken(r *http.Request, reason string) {
	s.Logger.Debug("access token rejected", attrReason, reason,
		attrRoute, r.Pattern, attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
}
