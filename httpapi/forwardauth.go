package httpapi

import "net/http"

// handleForwardAuth answers a reverse proxy's forward-auth subrequest.
func (s *Server) handleForwardAuth(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}
