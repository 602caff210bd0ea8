package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// Cookie names without their prefixes. With Secure, the access and CSRF cookies
// take __Host- and the refresh cookie __Secure- (RFC 6265bis section 4.1.3): the
// browser then refuses them unless set over https, without a Domain, and, for
// __Host-, with Path=/, so a sibling subdomain cannot plant its own.
const (
	accessCookie  = gatepass.AccessCookieName
	refreshCookie = "gatepass_refresh"
	csrfCookie    = gatepass.CSRFCookieName
)

// The paths that receive the refresh cookie. A cookie has one path, so it is set
// once for each: every other endpoint never sees it.
const (
	refreshPath = "/auth/refresh"
	logoutPath  = "/auth/logout"
)

// csrfTokenBytes is the entropy of a CSRF token: 256 bits.
const csrfTokenBytes = 32

// errNoRefreshCookie answers a cookie refresh without a refresh cookie.
var errNoRefreshCookie = gatepass.Errorf(codeCookieGrant, "refresh cookie is missing")

// sessionResponse answers a browser sign-in, sign-up or refresh. The tokens are
// in HttpOnly cookies, never in the body. The CSRF token is: a page on another
// allowed origin cannot read the CSRF cookie, which belongs to the issuer's host,
// and needs the token for its X-CSRF-Token header. The answer is readable only
// by the issuer's pages and the allowed CORS origins.
type sessionResponse struct {
	ExpiresIn int64        `json:"expires_in"`
	Scope     string       `json:"scope"`
	SessionID string       `json:"session_id"`
	CSRFToken string       `json:"csrf_token"`
	User      userResponse `json:"user"`
}

// userResponse describes the signed-in user. The id is a string, as in the "sub"
// claim, so JavaScript clients never round it.
type userResponse struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// handleLogin signs a browser in with a username and password (JSON or form) and
// puts the tokens in cookies. Parameters and errors are the password grant's.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.allowOrigin(w, r) {
		return
	}
	p, err := s.decodeParams(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := cookieClient(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	pair, err := s.passwordGrant(r, p, client)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.endReplacedSession(r)
	s.writeSession(w, http.StatusOK, pair, "")
}

// endReplacedSession revokes the session of the access cookie a browser signing
// in again still carries: its cookies are about to be overwritten, and a session
// nobody holds must not stay alive until it expires.
func (s *Server) endReplacedSession(r *http.Request) {
	old := s.cookieValue(r, accessCookie)
	if old == "" {
		return
	}
	claims, err := s.svc.VerifyAccessToken(old)
	if err != nil {
		return
	}
	err = s.svc.RevokeSession(clientContext(r), claims.SessionID, gatepass.RevokeLogout)
	if err != nil {
		s.Logger.Error("end replaced session", attrError, err)
	}
}

// handleSignUp creates an account from a form (username, email, password; JSON
// or form) and signs it in as handleLogin does. It is 404 unless enabled. Field
// errors name the field at fault; a taken username is 409.
func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) {
	if !s.AllowSignUp {
		writeNotFound(w)
		return
	}
	if !s.allowOrigin(w, r) {
		return
	}
	p, err := s.decodeParams(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := cookieClient(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	pair, err := s.svc.SignUp(r.Context(), auth.NewUser{
		Name: p["username"], Email: p["email"], Password: p["password"]}, client)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.endReplacedSession(r)
	s.writeSession(w, http.StatusCreated, pair, "")
}

// handleCookieRefresh rotates the refresh cookie and sets the cookies anew. A
// missing refresh cookie is 401 before the token check, since there is nothing a
// forged request could rotate, so a page on its first visit learns it is signed
// out. A dead one is 401 too. Both clear the cookies, so the page knows to sign
// in again, but only for a request from an allowed origin: another site's gets
// 403 and clears nothing. The CSRF token stays that of the session, so pages
// and tabs that hold it keep working across refreshes.
func (s *Server) handleCookieRefresh(w http.ResponseWriter, r *http.Request) {
	if err := s.discardBody(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	refresh := s.refreshCookieValue(r)
	if refresh == "" {
		if !s.allowOrigin(w, r) {
			return
		}
		s.clearCookies(w)
		s.writeError(w, r, errNoRefreshCookie)
		return
	}
	if !s.allowCookieRequest(w, r) {
		return
	}

	pair, err := s.svc.Refresh(r.Context(), auth.RefreshRequest{
		RefreshToken: refresh,
		Client:       auth.Client{IPAddress: clientIP(r), UserAgent: r.UserAgent()},
	})
	if gatepass.ErrorCode(err) == gatepass.EUNAUTHORIZED {
		s.clearCookies(w)
		s.writeError(w, r, gatepass.Errorf(codeCookieGrant, "%s",
			gatepass.ErrorMessage(err)))
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSession(w, http.StatusOK, pair, s.cookieValue(r, csrfCookie))
}

// writeSession sets the cookies of pair and answers with its description. csrf
// is the session's CSRF token; empty means a new session, which gets a new one.
func (s *Server) writeSession(w http.ResponseWriter, status int, pair *auth.TokenPair,
	csrf string) {
	if csrf == "" {
		csrf = newCSRFToken()
	}
	s.setCookies(w, pair, csrf)

	u := pair.User
	writeJSON(w, status, sessionResponse{
		ExpiresIn: pair.ExpiresIn,
		Scope:     pair.Scope,
		SessionID: pair.SessionID,
		CSRFToken: csrf,
		User: userResponse{
			UserID:   strconv.FormatInt(u.ID, 10),
			Username: u.Name,
			Email:    u.Email,
		},
	})
}

// cookieClient identifies the client of a browser sign-in. Unlike tokenClient it
// ignores the Authorization header, which a browser may send on its own to a
// site behind HTTP Basic. A client secret is refused as at the token endpoint.
func cookieClient(r *http.Request, p params) (auth.Client, error) {
	c := auth.Client{ID: p["client_id"], IPAddress: clientIP(r), UserAgent: r.UserAgent()}
	if p["client_secret"] != "" {
		return c, gatepass.Errorf(codeInvalidClient, "client authentication is not supported")
	}
	return c, nil
}

// newCSRFToken returns a fresh random CSRF token, unpadded base64url.
func newCSRFToken() string {
	b := make([]byte, csrfTokenBytes)
	rand.Read(b) // never fails; it crashes the program rather than return weak bytes
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookies puts a token pair and a CSRF token in cookies. Tokens in a response
// must never be cached.
func (s *Server) setCookies(w http.ResponseWriter, pair *auth.TokenPair, csrf string) {
	refreshAge := maxAge(pair.RefreshExpiresAt.Sub(s.svc.Now()))
	for _, c := range s.cookies(pair.AccessToken, pair.RefreshToken, csrf,
		int(pair.ExpiresIn), refreshAge) {
		http.SetCookie(w, c)
	}
	noStore(w)
}

// clearCookies expires every cookie, under every path it was set with.
func (s *Server) clearCookies(w http.ResponseWriter) {
	for _, c := range s.cookies("", "", "", -1, -1) {
		http.SetCookie(w, c)
	}
	noStore(w)
}

// cookies builds the four cookies of a browser session: the access token, the
// refresh token once per path that reads it, and the CSRF token. An age of -1
// sends Max-Age=0, which deletes the cookie.
//
// The access cookie is SameSite=Lax so that a link from another site lands on a
// signed-in page; it only authenticates, and state changes need the CSRF checks.
// The refresh and CSRF cookies are Strict: no other site has a reason to cause a
// refresh. The CSRF cookie is the only one JavaScript may read, and it lives as
// long as the refresh token so that a page can still refresh after the access
// cookie is gone.
func (s *Server) cookies(access, refresh, csrf string, accessAge,
	refreshAge int) []*http.Cookie {
	return []*http.Cookie{
		s.cookie(accessCookie, access, "/", accessAge, http.SameSiteLaxMode, true),
		s.cookie(refreshCookie, refresh, s.issuerPrefix()+refreshPath, refreshAge,
			http.SameSiteStrictMode, true),
		s.cookie(refreshCookie, refresh, s.issuerPrefix()+logoutPath, refreshAge,
			http.SameSiteStrictMode, true),
		s.cookie(csrfCookie, csrf, "/", refreshAge, http.SameSiteStrictMode, false),
	}
}

// cookie builds one cookie. No Domain is ever set: the cookies belong to the
// issuer's host alone.
func (s *Server) cookie(name, value, path string, age int, sameSite http.SameSite,
	httpOnly bool) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName(name),
		Value:    value,
		Path:     path,
		MaxAge:   age,
		Secure:   !s.InsecureCookies,
		HttpOnly: httpOnly,
		SameSite: sameSite,
	}
}

// cookieName adds the prefix the cookie's attributes earn it.
func (s *Server) cookieName(name string) string {
	switch {
	case s.InsecureCookies:
		return name
	case name == refreshCookie:
		return "__Secure-" + name
	}
	return "__Host-" + name
}

// issuerPrefix is the issuer's path with a leading slash, "" at the root: when
// gatepass is served under a prefix, the browser sees its endpoints under it.
func (s *Server) issuerPrefix() string {
	if s.issuerPath == "" {
		return ""
	}
	return "/" + s.issuerPath
}

// maxAge converts a remaining lifetime to a Max-Age of at least one second.
func maxAge(d time.Duration) int {
	return max(int(d/time.Second), 1)
}

// noStore forbids caching an answer that holds or sets a token.
func noStore(w http.ResponseWriter) {
	setNoStore(w.Header())
	setValue(w.Header(), "Pragma", valueNoCache)
}
