package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

// The headers of a forward-auth answer that name the token's holder. The proxy
// copies them onto the request it passes to the protected app (nginx:
// auth_request_set; Traefik: authResponseHeaders; Caddy: copy_headers), and must
// overwrite any the client sent, or a client could name itself anyone.
const (
	headerAuthSubject  = "X-Auth-Subject"
	headerAuthUsername = "X-Auth-Username"
	headerAuthScope    = "X-Auth-Scope"
	headerAuthSession  = "X-Auth-Session"
	headerAuthExpires  = "X-Auth-Expires"
)

// forwardedMethodHeaders carry the method of the request a proxy asks about:
// X-Forwarded-Method is sent by Traefik and Caddy, X-Original-Method by the
// nginx example, which has to set it with proxy_set_header. The names are in
// canonical form, as the header map keys them.
var forwardedMethodHeaders = []string{"X-Original-Method", "X-Forwarded-Method"}

// Log attribute keys of forward-auth refusals.
const (
	attrRequiredScope = "required_scope"
	attrSubject       = "sub"
)

// Answers of forward-auth that other endpoints do not give.
var (
	errClaimsNotHeaderSafe = gatepass.Errorf(gatepass.EINVALIDTOKEN,
		"token claims cannot be sent as headers")
	errRequiredScope = gatepass.FieldError("scope",
		"scope must list scopes of printable characters other than space, \" and \\")
)

// handleForwardAuth answers the subrequest a reverse proxy (nginx auth_request,
// Traefik ForwardAuth, Caddy forward_auth) sends before it passes a request on
// to a protected app. It is 200 with the identity headers above and an empty
// body when the original request carries a valid access token, 401 when it
// carries none or a bad one, and 403 when it may be forged or the token lacks a
// scope that the query requires (?scope=a+b, or scope repeated).
//
// It checks the token locally and never calls the store, so it keeps answering
// at the rate of every request of the app, and while the database is down. The
// price is the one every resource server pays: a revoked session's token works
// until it expires.
//
// The token comes from the same places as for gatepass's own endpoints, with
// the same CSRF checks: when the original method, named by the proxy in
// X-Original-Method or X-Forwarded-Method, is not safe and a cookie
// authenticates it, the forwarded Origin or Sec-Fetch-Site must be allowed and
// the X-CSRF-Token header must match the CSRF cookie. A proxy that names no
// method is taken to ask about the subrequest's own GET, so it must forward
// the method for the app's state changes to be protected.
func (s *Server) handleForwardAuth(w http.ResponseWriter, r *http.Request) {
	required, err := requiredScopes(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	claims, ok := s.forwardedClaims(w, r)
	if !ok {
		return
	}

	h, err := identityHeaders(claims)
	if err != nil {
		s.rejectToken(w, r, err, "claims_not_header_safe")
		return
	}
	if !hasScopes(claims, required) {
		s.refuseScope(w, r, claims, required)
		return
	}

	// A proxy reads a 200 only to copy the identity headers onto the request
	// it passes on; no browser is shown it, and it has no body. The headers
	// that guard a shown page go, then, and with them about a tenth of the
	// answer's CPU: nine headers need a larger map than the eight a small Go
	// map holds, in each of the copies net/http makes. Refusals keep them, as
	// Traefik and Caddy hand those to the browser.
	hdr := w.Header()
	dropPageHeaders(hdr)
	writeIdentity(hdr, &h)
	setNoStore(hdr)
	w.WriteHeader(http.StatusOK)
}

// forwardedClaims returns the claims of the original request's access token,
// checked as requireAccess checks them, or answers the request and returns false.
// The claims may be shared with other requests and must not be changed.
func (s *Server) forwardedClaims(w http.ResponseWriter, r *http.Request) (*gatepass.Claims,
	bool) {
	tok, cred := s.accessToken(r)
	unsafe := !originalMethodSafe(r)
	if cred != credentialBearer && unsafe && !s.allowOrigin(w, r) {
		// As in requireAccess: a forged request is refused as forged first.
		return nil, false
	} else if cred == credentialNone {
		s.writeError(w, r, errMissingToken)
		return nil, false
	} else if cred == credentialCookie && unsafe && !s.allowCookieRequest(w, r) {
		return nil, false
	}

	// The claims are only read, into headers, so the cache's own will do.
	claims, err := s.svc.VerifyAccessTokenShared(tok)
	if err != nil {
		s.rejectToken(w, r, err, gatepass.ErrorMessage(err))
		return nil, false
	}
	return claims, true
}

// originalMethodSafe reports whether the request the proxy asks about changes
// nothing. Should both method headers be present, or one be repeated, every
// method named must be safe: a client may add a header the proxy does not set,
// and it must not be able to talk its way out of the CSRF checks. Method names
// are case-sensitive (RFC 9110 section 9.1), so "get" is not safe.
func originalMethodSafe(r *http.Request) bool {
	named := false
	for _, name := range forwardedMethodHeaders {
		for _, m := range r.Header[name] {
			if !safeMethod(m) {
				return false
			}
			named = true
		}
	}
	return named || safeMethod(r.Method)
}

// requiredScopes returns the scopes the query requires: each scope parameter
// holds one or more, space-separated. The query is written by the proxy's
// operator, so anything odd in it is refused rather than guessed at.
func requiredScopes(r *http.Request) ([]string, error) {
	if r.URL.RawQuery == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, gatepass.Errorf(gatepass.EINVALID, "query is malformed")
	}

	var scopes []string
	for _, v := range q["scope"] {
		for _, sc := range strings.Fields(v) {
			if !validScope(sc) {
				return nil, errRequiredScope
			}
			scopes = append(scopes, sc)
		}
	}
	return scopes, nil
}

// validScope reports whether sc is a scope token as RFC 6749 section 3.3
// defines it: printable ASCII except space, '"' and '\'. Such a scope can be
// quoted in a WWW-Authenticate header as it is.
func validScope(sc string) bool {
	for i := 0; i < len(sc); i++ {
		if c := sc[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return sc != ""
}

// hasScopes reports whether the token grants every required scope.
func hasScopes(c *gatepass.Claims, required []string) bool {
	for _, sc := range required {
		if !c.HasScope(sc) {
			return false
		}
	}
	return true
}

// identityHeader is one header that names the token's holder.
type identityHeader struct{ name, value string }

// identityHeaders returns the headers that name the token's holder; an empty
// claim has an empty value and is left out of the answer. The claims come from a
// token gatepass signed, yet a value that could end the header line, or that a
// proxy could trim or re-encode, is refused rather than cleaned: a changed user
// name could be someone else's.
func identityHeaders(c *gatepass.Claims) ([5]identityHeader, error) {
	h := [5]identityHeader{
		{headerAuthSubject, c.Subject},
		{headerAuthUsername, c.Username},
		{headerAuthScope, c.Scope},
		{headerAuthSession, c.SessionID},
		{headerAuthExpires, time.Unix(c.ExpiresAt, 0).UTC().Format(time.RFC3339)},
	}
	for _, f := range h {
		if f.value != "" && !headerValueSafe(f.value) {
			return h, errClaimsNotHeaderSafe
		}
	}
	return h, nil
}

// writeIdentity puts the non-empty identity headers in dst. Their values share
// one backing array, each slice capped at its one element, so that the answer
// costs one allocation rather than one per header.
func writeIdentity(dst http.Header, h *[5]identityHeader) {
	values := make([]string, 0, len(h))
	for _, f := range h {
		if f.value == "" {
			continue
		}
		values = append(values, f.value)
		n := len(values)
		dst[f.name] = values[n-1 : n : n]
	}
}

// headerValueSafe reports whether v is printable ASCII with no space at either
// end, so that it reaches the app byte for byte through any proxy.
func headerValueSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}

	// The only white space left to check for is the space itself.
	return v == "" || (v[0] != ' ' && v[len(v)-1] != ' ')
}

// refuseScope logs and answers a valid token that lacks a required scope, with
// 403 insufficient_scope and the scopes needed (RFC 6750 section 3.1).
func (s *Server) refuseScope(w http.ResponseWriter, r *http.Request, c *gatepass.Claims,
	required []string) {
	scope := strings.Join(required, " ")
	s.Logger.Warn("forward-auth scope refused", attrReason, "insufficient_scope",
		attrRoute, r.Pattern, attrSubject, c.Subject, attrRequiredScope, logSafe(scope),
		attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())

	h := w.Header()
	h.Set("WWW-Authenticate", `Bearer realm="gatepass", error="insufficient_scope", `+
		`scope="`+scope+`"`)
	h.Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusForbidden, errorResponse{Error: "insufficient_scope",
		Description: "the access token lacks a scope this resource requires"})
}
