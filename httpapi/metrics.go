package httpapi

import (
	"net/http"
	"time"
)

// RequestObserver is told of every request the server answers, for metrics;
// package metrics implements it. It is called after the answer is written, on
// the request's goroutine, so it must be fast and safe for concurrent use.
type RequestObserver interface {
	// ObserveRequest records a request by the pattern of the route that answered
	// it (such as "POST /oauth/token", or "" when no route matched), never by its
	// path, so that the values stay few and carry no identifier.
	ObserveRequest(route, method string, status int, d time.Duration)
}

// handleMetrics serves GET /metrics from Server.Metrics. Without it, the path is
// answered as one that no route serves: by the Fallback, or with 404.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.Metrics != nil:
		s.Metrics.ServeHTTP(w, r)
	case s.Fallback != nil:
		s.Fallback.ServeHTTP(w, r)
	default:
		writeNotFound(w)
	}
}
