package httpapi

import (
	"net/http"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// errLogoutScope answers a logout with an unknown scope.
var errLogoutScope = gatepass.FieldError("scope", "scope must be local, others or global")

// handleLogout ends sessions: with ?scope=local (the default) the caller's, with
// others every other session of the user, with global all of them. local and
// global clear the cookies; others keeps them.
//
// The caller is authenticated by a bearer token or the access cookie. A browser
// whose access cookie has expired still holds the refresh cookie, which is sent
// here too: for local it is enough, as it names the session to end. Cookies need
// the CSRF checks; a bearer token is never sent by the browser on its own, so
// bearer requests are exempt and never fall back to a cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.discardBody(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	scope := r.URL.Query().Get("scope")
	switch scope {
	case "", auth.LogoutLocal, auth.LogoutOthers, auth.LogoutGlobal:
	default:
		s.writeError(w, r, errLogoutScope)
		return
	}

	tok, cred := s.accessToken(r)
	refresh := ""
	if cred != credentialBearer {
		refresh = s.refreshCookieValue(r)
	}
	if cred != credentialBearer && !s.allowOrigin(w, r) {
		return
	} else if cred == credentialNone && refresh == "" {
		s.writeError(w, r, errMissingToken)
		return
	} else if cred != credentialBearer && !s.allowCookieRequest(w, r) {
		return
	}

	var claims *gatepass.Claims
	var err error
	if cred != credentialNone {
		claims, err = s.svc.VerifyAccessToken(tok)
	}
	local := scope == "" || scope == auth.LogoutLocal
	switch {
	case cred != credentialNone && err == nil:
		err = s.logout(r, claims, scope)
	case local && refresh != "":
		err = s.svc.Revoke(clientContext(r), refresh, auth.HintRefreshToken)
	case cred == credentialNone:
		s.writeError(w, r, errMissingToken)
		return
	default:
		s.rejectToken(w, r, err, gatepass.ErrorMessage(err))
		return
	}
	if err != nil {
		s.writeAccessError(w, r, err)
		return
	}

	if scope != auth.LogoutOthers {
		s.clearCookies(w)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}

// logout ends the sessions scope names for the holder of claims. Ending other
// sessions needs a live one: a token of a signed-out session, stolen, must not
// sign its owner out everywhere. Ending its own session needs nothing.
func (s *Server) logout(r *http.Request, claims *gatepass.Claims, scope string) error {
	if scope == auth.LogoutOthers || scope == auth.LogoutGlobal {
		if _, _, err := s.svc.Me(r.Context(), claims); err != nil {
			return err
		}
	}
	_, err := s.svc.Logout(clientContext(r), claims, scope)
	return err
}

// refreshCookieValue returns the value of the refresh cookie, or "".
func (s *Server) refreshCookieValue(r *http.Request) string {
	return s.cookieValue(r, refreshCookie)
}

// cookieValue returns the value of one of gatepass's cookies, or "" when it is
// absent or sent more than once. Two cookies of one name mean another site of the
// same registrable domain planted one with a Domain attribute (the __Secure-
// prefix does not forbid that); which one the browser lists first is not ours to
// trust, so neither is used.
func (s *Server) cookieValue(r *http.Request, name string) string {
	cookies := r.CookiesNamed(s.cookieName(name))
	if len(cookies) != 1 {
		if len(cookies) > 1 {
			s.Logger.Warn("duplicate cookie refused", attrReason, "cookie_planted",
				attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
		}
		return ""
	}
	return cookies[0].Value
}
