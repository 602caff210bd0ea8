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
// requireBearer. The token alone would name the user, but the account and session
// are loaded so that a disabled user or a signed-out session is refused at once
// rather than when the token expires.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	claims := gatepass.ClaimsFromContext(r.Context())
	u, _, err := s.svc.Me(r.Context(), claims)
	if gatepass.ErrorCode(err) == gatepass.EINVALIDTOKEN {
		s.rejectToken(w, r, err, "session_or_user_gone")
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}

	w.Header().Set("Cache-Control", "no-store")
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
