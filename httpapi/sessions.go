package httpapi

import (
	"net/http"
	"time"

	"github.com/gatepass/gatepass"
)

// errSessionNotFound answers for a session id that is unknown or someone else's,
// alike, so nobody learns which ids exist.
var errSessionNotFound = gatepass.Errorf(gatepass.ENOTFOUND, "session not found")

// sessionsResponse lists the signed-in user's live sessions, newest first.
type sessionsResponse struct {
	Sessions []sessionInfo `json:"sessions"`
}

// sessionInfo describes one session for a "where you are signed in" page. Current
// marks the session of the token that asked.
type sessionInfo struct {
	ID         string `json:"id"`
	UserAgent  string `json:"user_agent"`
	IPAddress  string `json:"ip_address"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	Current    bool   `json:"current"`
}

// handleSessions lists the user's live sessions. It runs behind requireAccess.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	claims := gatepass.ClaimsFromContext(r.Context())
	u, _, err := s.svc.Me(r.Context(), claims)
	if err != nil {
		s.writeAccessError(w, r, err)
		return
	}
	sessions, err := s.svc.FindSessions(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	res := sessionsResponse{Sessions: make([]sessionInfo, 0, len(sessions))}
	for _, sess := range sessions {
		res.Sessions = append(res.Sessions, sessionInfo{
			ID:         sess.ID,
			UserAgent:  sess.UserAgent,
			IPAddress:  sess.IPAddress,
			CreatedAt:  formatTime(sess.CreatedAt),
			LastUsedAt: formatTime(sess.LastUsedAt),
			ExpiresAt:  formatTime(sess.ExpiresAt),
			Current:    sess.ID == claims.SessionID,
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
}

// handleDeleteSession signs one of the user's sessions out. It runs behind
// requireAccess, which applies the CSRF checks to cookies. A browser ending its
// own session is logging out, so its cookies are cleared too; a bearer caller's
// session is not the cookies', which are left alone.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	claims := gatepass.ClaimsFromContext(r.Context())
	u, _, err := s.svc.Me(r.Context(), claims)
	if err != nil {
		s.writeAccessError(w, r, err)
		return
	}

	id := r.PathValue("id")
	err = s.svc.RevokeUserSession(clientContext(r), u.ID, id)
	if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
		s.writeError(w, r, errSessionNotFound)
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}

	if id == claims.SessionID && credentialFromContext(r.Context()) == credentialCookie {
		s.clearCookies(w)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}

// formatTime writes a time in RFC 3339, in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
