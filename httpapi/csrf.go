package httpapi

import (
	"net/http"

	"github.com/gatepass/gatepass"
)

// csrfHeader carries the CSRF token on cookie-authenticated state changes.
const csrfHeader = "X-CSRF-Token"

// Answers to a request that may be forged. They say which check failed, not why.
var (
	errForeignOrigin = gatepass.Errorf(codeCrossSite,
		"origin check failed: the request does not come from an allowed origin")
	errCSRFToken = gatepass.Errorf(codeCrossSite,
		"csrf token check failed: X-CSRF-Token must match the CSRF cookie")
)

// Cookies are sent by the browser whoever made the page, so a request that a
// cookie authenticates may have been forged by another site. Two checks refuse
// such requests before anything changes (OWASP CSRF Prevention Cheat Sheet):
//
//   - the double-submit token: the X-CSRF-Token header must equal the CSRF
//     cookie, which only pages that can read the cookie (or the response that
//     set it) know;
//   - the origin: the browser's Origin header, or failing that Sec-Fetch-Site,
//     must name the issuer or a configured CORS origin. Clients that send
//     neither header are not browsers, and the token check alone decides.
//
// SameSite on the cookies is a third, browser-side layer, not relied on alone:
// it counts sibling subdomains as the same site.

// allowOrigin reports whether r passes the origin check, and refuses it if not.
// Sign-in and sign-up run it alone: they carry credentials, not cookies, but a
// forged sign-in would put the victim in the attacker's account (login CSRF).
func (s *Server) allowOrigin(w http.ResponseWriter, r *http.Request) bool {
	if reason := s.checkOrigin(r); reason != "" {
		s.refuseCrossSite(w, r, reason, errForeignOrigin)
		return false
	}
	return true
}

// allowCookieRequest reports whether a cookie-authenticated state change passes
// both checks, and refuses it if not.
func (s *Server) allowCookieRequest(w http.ResponseWriter, r *http.Request) bool {
	if !s.allowOrigin(w, r) {
		return false
	}
	if reason := s.checkCSRFToken(r); reason != "" {
		s.refuseCrossSite(w, r, reason, errCSRFToken)
		return false
	}
	return true
}

// checkOrigin returns "" if r comes from the issuer's origin, an allowed CORS
// origin or a client that names no origin, and otherwise the reason to log.
// Sec-Fetch-Site "none" is a navigation the user started, not a page's request.
func (s *Server) checkOrigin(r *http.Request) string {
	if origin := headerValue(r.Header, "Origin"); origin != "" {
		if origin == s.issuerOrigin || s.corsOrigins[origin] {
			return ""
		}
		return "foreign_origin"
	}
	switch headerValue(r.Header, "Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return ""
	}
	return "cross_site_fetch"
}

// checkCSRFToken returns "" if the X-CSRF-Token header equals the CSRF cookie,
// both present, and otherwise the reason to log. The comparison takes constant
// time.
func (s *Server) checkCSRFToken(r *http.Request) string {
	given := r.Header.Get(csrfHeader)
	cookie := s.cookieValue(r, csrfCookie)
	switch {
	case cookie == "" || given == "":
		return "csrf_token_missing"
	case !secretEqual(given, cookie):
		return "csrf_token_mismatch"
	}
	return ""
}

// refuseCrossSite logs a refused request and answers 403.
func (s *Server) refuseCrossSite(w http.ResponseWriter, r *http.Request, reason string,
	err error) {
	s.Logger.Warn("cross-site request refused", attrReason, reason, attrRoute, r.Pattern,
		attrOrigin, logSafe(r.Header.Get("Origin")), attrClientIP, clientIP(r),
		attrUserAgent, r.UserAgent())
	s.writeError(w, r, err)
}

// safeMethod reports whether a request with method m changes nothing (RFC 9110
// section 9.2.1), so cookies may authenticate it without the CSRF checks.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
