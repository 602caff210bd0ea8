package httpapi

import "net/http"

// handleOpenAPI serves the OpenAPI document of the HTTP interface.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}
