package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatepass/gatepass"
)

// meResponse describes the signed-in user and the token used. The user id is a
// string, as in the "sub" claim, so JavaScript clients never round it.
type meResponse struct {
	UserID    string `json:"user_id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	Scope     string `json:"scope"`
	SessionID string `json:"session_id"`
	ClientID  string `json:"client_id"`
	ExpiresAt string `json:"expires_at"`
}

// handleMe answers who the bearer of the access token is. It runs behind
// requireAccess.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	claims := gatepass.ClaimsFromContext(r.Context())
	u, _, err := s.svc.Me(r.Context(), claims)
	if err != nil {
		s.writeAccessError(w, r, err)
		return
	}

	setNoStore(w.Header())
	writeJSON(w, http.StatusOK, meResponse{
		UserID:    strconv.FormatInt(u.ID, 10),
		Username:  u.Name,
		Email:     u.Email,
		Scope:     claims.Scope,
		SessionID: claims.SessionID,
		ClientID:  claims.ClientID,
		ExpiresAt: time.Unix(claims.ExpiresAt, 0).UTC().Format(time.RFC3339),
	})
}

// writeAccessError answers a failure of svc.Me. The account endpoints call Me,
// although the token alone names the user, so that a disabled user or a
// signed-out session is refused at once rather than when the token expires.
func (s *Server) writeAccessError(w http.ResponseWriter, r *http.Request, err error) {
	if gatepass.ErrorCode(err) == gatepass.EINVALIDTOKEN {
		s.rejectToken(w, r, err, "session_or_user_gone")
		return
	}
	s.writeError(w, r, err)
}
