// Package httpapi serves the gatepass token service over HTTP: the OAuth 2.0 token,
// revocation and introspection endpoints, the discovery documents, the account
// endpoints and the health checks. It knows nothing of SQL: everything goes through
// auth.Service.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatepass/gatepass/auth"
)

// defaultMaxBodyBytes bounds request bodies when Server.MaxBodyBytes is zero. Token
// requests are a few hundred bytes; anything near the limit is abuse.
const defaultMaxBodyBytes = 64 << 10

// Log attribute keys, fixed so that log queries keep working.
const (
	attrMethod    = "method"
	attrRoute     = "route"
	attrStatus    = "status"
	attrDuration  = "duration"
	attrClientIP  = "client_ip"
	attrUserAgent = "user_agent"
	attrError     = "error"
	attrReason    = "reason"
	attrPanic     = "panic"
	attrStack     = "stack"
)

// Server serves the HTTP API of one auth.Service. Set the exported fields before
// calling Handler.
type Server struct {
	// Logger receives the access log (at Debug), rejected tokens (at Warn) and
	// internal failures (at Error). It never receives a token, a password, an
	// Authorization or Cookie header, or a query string.
	Logger *slog.Logger

	// MaxBodyBytes bounds request bodies; larger ones get 413. Zero means 64 KiB.
	MaxBodyBytes int64

	// IntrospectionSecret authenticates callers of /oauth/introspect, sent as the
	// password of HTTP Basic (any user name) or as a Bearer token. Empty refuses
	// every introspection request.
	IntrospectionSecret string

	svc *auth.Service
	mux *http.ServeMux

	// metadata is the RFC 8414 document, built once: the configuration it comes
	// from does not change while the service runs. issuerPath is the issuer's
	// path, under which the document is also served.
	metadata   []byte
	issuerPath string
}

// NewServer returns a server for svc with its routes registered.
func NewServer(svc *auth.Service) *Server {
	s := &Server{
		Logger:     slog.Default().With("component", "httpapi"),
		svc:        svc,
		mux:        http.NewServeMux(),
		metadata:   buildMetadata(svc.Config()),
		issuerPath: issuerPath(svc.Config()),
	}
	s.routes()
	return s
}

// routes registers every endpoint. Handlers live one group per file.
func (s *Server) routes() {
	s.mux.HandleFunc("POST /oauth/token", s.handleToken)
	s.mux.HandleFunc("POST /oauth/revoke", s.handleRevoke)
	s.mux.HandleFunc("POST /oauth/introspect", s.handleIntrospect)

	s.mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	s.mux.HandleFunc("GET "+metadataPath, s.handleMetadata)
	s.mux.HandleFunc("GET "+metadataPath+"/{path...}", s.handleMetadata)

	s.mux.Handle("GET /auth/me", s.requireBearer(http.HandlerFunc(s.handleMe)))

	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)

	s.mux.HandleFunc("/", s.handleNotFound)
}

// Handler returns the routes wrapped in the middleware every request goes through:
// the access log outermost so it sees the final status, then panic recovery, then
// the security headers.
func (s *Server) Handler() http.Handler {
	return s.logRequests(s.recoverPanics(securityHeaders(s.mux)))
}

// NewHTTPServer returns an http.Server for h whose timeouts and header limit keep
// slow or hostile clients from holding connections open.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,

		// WriteTimeout covers the whole request after the headers, including a
		// password hash that may queue behind others under load.
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
	}
}

// maxBodyBytes returns the configured body limit or the default.
func (s *Server) maxBodyBytes() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return defaultMaxBodyBytes
}
