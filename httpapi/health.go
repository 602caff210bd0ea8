package httpapi

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds the readiness check, so a hung database makes the check fail
// rather than hang the prober.
const readyTimeout = 2 * time.Second

// statusResponse is the body of the health checks.
type statusResponse struct {
	Status string `json:"status"`
}

// handleHealth reports that the process serves HTTP. It touches no database, so a
// slow database never gets a healthy instance restarted.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	setNoStore(w.Header())
	writeJSONBody(w, http.StatusOK, healthBody)
}

// healthBody is the answer of the liveness check, which never changes.
var healthBody = mustJSON(statusResponse{Status: "ok"})

// handleReady reports whether the instance can take traffic: whether the database
// answers.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()

	w.Header().Set("Cache-Control", "no-store")
	if err := s.svc.Ready(ctx); err != nil {
		if r.Context().Err() == nil {
			s.Logger.Warn("readiness check failed", attrError, err)
		}
		writeJSON(w, http.StatusServiceUnavailable, statusResponse{Status: "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, statusResponse{Status: "ready"})
}
