package httpapi

import (
	"net/http"
)

// handleRevoke is the revocation endpoint (RFC 7009). It ends the session the token
// belongs to, whether the token is a refresh or an access token.
//
// It asks for no client authentication: gatepass has only public clients, and
// whoever holds a token can already use it, so letting them kill it gives nothing
// away. Valid, invalid and unknown tokens get the same 200 (RFC 7009 section 2.2),
// so the endpoint cannot be used to test whether a token exists.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	p, err := s.decodeParams(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tok, err := p.require("token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	if err := s.svc.Revoke(clientContext(r), tok, p["token_type_hint"]); err != nil {
		s.writeError(w, r, err)
		return
	}

	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}
