// Package httpapi serves the gatepass token service over HTTP: the OAuth 2.0 token,
// revocation and introspection endpoints, the discovery documents, the browser
// (cookie) endpoints, the account endpoints and the health checks. It knows nothing
// of SQL: everything goes through auth.Service.
package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
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
	attrOrigin    = "origin"
)

// Server serves the HTTP API of one auth.Service. Set the exported fields before
// calling Handler.
type Server struct {
	// Logger receives the access log and rejected tokens (at Debug), refused
	// cross-site requests (at Warn) and internal failures (at Error). It never
	// receives a token, a password, an Authorization or Cookie header, or a query
	// string.
	Logger *slog.Logger

	// MaxBodyBytes bounds request bodies; larger ones get 413. Zero means 64 KiB.
	MaxBodyBytes int64

	// IntrospectionSecret authenticates callers of /oauth/introspect, sent as the
	// password of HTTP Basic (any user name) or as a Bearer token. Empty refuses
	// every introspection request.
	IntrospectionSecret string

	// CORSOrigins lists the origins (scheme://host[:port]) whose pages may call the
	// API with credentials, and whose requests pass the CSRF origin check. Check
	// them with Validate.
	CORSOrigins []string

	// InsecureCookies drops the Secure attribute and the __Host-/__Secure- name
	// prefixes, for development over plain http. Validate allows it only for an
	// issuer on a loopback host.
	InsecureCookies bool

	// AllowSignUp enables POST /auth/signup; without it the endpoint is 404.
	AllowSignUp bool

	// SimpleJWTCompat enables the djangorestframework-simplejwt endpoints under
	// /api/token/, for front ends written for it; without it they are 404.
	SimpleJWTCompat bool

	// Fallback, if set, answers GET and HEAD requests for paths that no API
	// route serves under any method, such as the demo pages. API routes always
	// win, and an API path asked with the wrong method is still 405.
	Fallback http.Handler

	// Metrics, if set, serves GET /metrics (see package metrics). Without it the
	// path is 404, as when metrics are off or served on a listener of their own.
	Metrics http.Handler

	// Requests, if set, is told the route, method, status and duration of every
	// request.
	Requests RequestObserver

	// TrustedProxies lists the reverse proxies whose X-Forwarded-For header
	// gatepass believes (parse entries with ParseTrustedProxy). A request from
	// one of them is taken to come from the first address, reading the header
	// from the right, that is not itself a trusted proxy: that address is
	// what rate limits, lockouts, sessions, audit events and logs see. Empty,
	// the default, takes every request to come from its direct peer and
	// ignores the header, which any client can write.
	TrustedProxies []netip.Prefix

	svc      *auth.Service
	mux      *http.ServeMux
	patterns []string

	// metadata is the RFC 8414 document, built once: the configuration it comes
	// from does not change while the service runs. issuerPath is the issuer's
	// path, under which the document is also served.
	metadata   []byte
	issuerPath string

	// issuerOrigin is the issuer's origin, which the CSRF origin check always
	// accepts. corsOrigins is CORSOrigins normalised, built by Handler.
	issuerOrigin string
	corsOrigins  map[string]bool
}

// NewServer returns a server for svc with its routes registered.
func NewServer(svc *auth.Service) *Server {
	s := &Server{
		Logger:       slog.Default().With("component", "httpapi"),
		svc:          svc,
		mux:          http.NewServeMux(),
		metadata:     buildMetadata(svc.Config()),
		issuerPath:   issuerPath(svc.Config()),
		issuerOrigin: issuerOrigin(svc.Config()),
	}
	s.routes()
	return s
}

// routes registers every endpoint. Handlers live one group per file.
func (s *Server) routes() {
	s.handle("POST /oauth/token", http.HandlerFunc(s.handleToken))
	s.handle("POST /oauth/revoke", http.HandlerFunc(s.handleRevoke))
	s.handle("POST /oauth/introspect", http.HandlerFunc(s.handleIntrospect))

	s.handle("GET /.well-known/jwks.json", http.HandlerFunc(s.handleJWKS))
	s.handle("GET "+metadataPath, http.HandlerFunc(s.handleMetadata))
	s.handle("GET "+metadataPath+"/{path...}", http.HandlerFunc(s.handleMetadata))

	s.handle("POST /auth/login", http.HandlerFunc(s.handleLogin))
	s.handle("POST /auth/signup", http.HandlerFunc(s.handleSignUp))
	s.handle("POST /auth/refresh", http.HandlerFunc(s.handleCookieRefresh))
	s.handle("POST /auth/logout", http.HandlerFunc(s.handleLogout))

	s.handle("GET /auth/me", s.requireAccess(http.HandlerFunc(s.handleMe)))
	s.handle("GET /auth/sessions", s.requireAccess(http.HandlerFunc(s.handleSessions)))
	s.handle("DELETE /auth/sessions/{id}",
		s.requireAccess(http.HandlerFunc(s.handleDeleteSession)))
	s.handle("GET /auth/verify", http.HandlerFunc(s.handleForwardAuth))

	s.handle("POST /api/token/{$}", http.HandlerFunc(s.handleSimpleJWTObtain))
	s.handle("POST /api/token/refresh/{$}", http.HandlerFunc(s.handleSimpleJWTRefresh))
	s.handle("POST /api/token/verify/{$}", http.HandlerFunc(s.handleSimpleJWTVerify))
	s.handle("POST /api/token/blacklist/{$}", http.HandlerFunc(s.handleSimpleJWTBlacklist))

	s.handle("GET /healthz", http.HandlerFunc(s.handleHealth))
	s.handle("GET /readyz", http.HandlerFunc(s.handleReady))
	s.handle("GET /metrics", http.HandlerFunc(s.handleMetrics))
	s.handle("GET /openapi.json", http.HandlerFunc(s.handleOpenAPI))

	s.mux.HandleFunc("/", s.handleNotFound)
}

// handle registers h for pattern and remembers the pattern, so that the list of
// routes can be compared with the OpenAPI document.
func (s *Server) handle(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// Patterns returns the pattern of every API route, in registration order, such
// as "POST /oauth/token". Paths are relative to the server's root.
func (s *Server) Patterns() []string {
	return slices.Clone(s.patterns)
}

// Handler returns the routes wrapped in the middleware every request goes through:
// with trusted proxies, the client's forwarded address first; the access log
// next so it sees the final status, then panic recovery, then the security
// headers, then CORS, so that error answers carry CORS headers too.
func (s *Server) Handler() http.Handler {
	s.corsOrigins = map[string]bool{}
	for _, o := range s.CORSOrigins {
		if origin, err := ParseOrigin(o); err == nil {
			s.corsOrigins[origin] = true
		}
	}

	h := s.logRequests(s.recoverPanics(securityHeaders(s.cors(s.mux))))
	if len(s.TrustedProxies) > 0 {
		h = s.forwardedClient(h)
	}
	return h
}

// Validate checks the exported settings and names the flag of the first one that
// is wrong. Handler silently drops CORS origins Validate would refuse.
func (s *Server) Validate() error {
	for _, o := range s.CORSOrigins {
		if _, err := ParseOrigin(o); err != nil {
			return fmt.Errorf("cors-origin: %w", err)
		}
	}
	for _, p := range s.TrustedProxies {
		if !p.IsValid() {
			return errors.New("trusted-proxy: an entry is not a valid prefix")
		}
	}

	// Without Secure, a cookie travels in clear and any network attacker can take
	// the session; only a loopback issuer keeps the traffic on the machine.
	if !s.InsecureCookies {
		return nil
	}
	host := ""
	if u, err := url.Parse(s.svc.Config().Issuer); err == nil {
		host = u.Hostname()
	}
	if !loopbackHosts[host] {
		return fmt.Errorf("insecure-cookies: allowed only when the issuer host is "+
			"localhost, 127.0.0.1 or [::1], not %q", host)
	}
	return nil
}

// loopbackHosts are the issuer hosts for which cookies without Secure are allowed.
var loopbackHosts = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}

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
