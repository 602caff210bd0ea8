package httpapi

import "net/http"

// handleMetrics serves the Prometheus metrics.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.handleNotFound(w, r)
}
