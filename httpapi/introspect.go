package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// introspectionResponse is the RFC 7662 section 2.2 answer. An inactive token gets
// {"active":false} and nothing else.
type introspectionResponse struct {
	Active    bool              `json:"active"`
	Scope     string            `json:"scope,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	Username  string            `json:"username,omitempty"`
	TokenType string            `json:"token_type,omitempty"`
	ExpiresAt int64             `json:"exp,omitempty"`
	IssuedAt  int64             `json:"iat,omitempty"`
	NotBefore int64             `json:"nbf,omitempty"`
	Subject   string            `json:"sub,omitempty"`
	Audience  gatepass.Audience `json:"aud,omitempty"`
	Issuer    string            `json:"iss,omitempty"`
	ID        string            `json:"jti,omitempty"`
	SessionID string            `json:"sid,omitempty"`
}

// handleIntrospect is the introspection endpoint (RFC 7662). Unlike local
// verification it sees revocations, so an access token of a revoked session is
// reported inactive. Callers must authenticate (section 2.1), or the endpoint
// would let anyone probe stolen tokens.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if !s.introspectionAllowed(r) {
		s.Logger.Warn("introspection caller rejected", attrClientIP, clientIP(r),
			attrUserAgent, r.UserAgent())
		s.writeError(w, r, gatepass.Errorf(codeInvalidClient,
			"introspection requires client authentication"))
		return
	}

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

	in, err := s.svc.Introspect(r.Context(), tok, p["token_type_hint"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, newIntrospectionResponse(in))
}

// newIntrospectionResponse copies an introspection into its wire form.
func newIntrospectionResponse(in *auth.Introspection) introspectionResponse {
	if !in.Active {
		return introspectionResponse{}
	}
	return introspectionResponse{
		Active:    true,
		Scope:     in.Scope,
		ClientID:  in.ClientID,
		Username:  in.Username,
		TokenType: in.TokenType,
		ExpiresAt: in.ExpiresAt,
		IssuedAt:  in.IssuedAt,
		NotBefore: in.NotBefore,
		Subject:   in.Subject,
		Audience:  in.Audience,
		Issuer:    in.Issuer,
		ID:        in.ID,
		SessionID: in.SessionID,
	}
}

// introspectionAllowed reports whether r carries the introspection secret, as the
// password of HTTP Basic (any user name) or as a Bearer token.
func (s *Server) introspectionAllowed(r *http.Request) bool {
	if s.IntrospectionSecret == "" {
		return false
	}

	if _, raw, ok := r.BasicAuth(); ok {
		// RFC 6749 section 2.3.1 form-encodes the password, but curl -u and many
		// scripts do not; the secret may be sent either way.
		decoded, err := url.QueryUnescape(raw)
		return secretEqual(raw, s.IntrospectionSecret) ||
			(err == nil && secretEqual(decoded, s.IntrospectionSecret))
	}
	if tok, ok := bearerToken(r); ok {
		return secretEqual(tok, s.IntrospectionSecret)
	}
	return false
}

// secretEqual compares two secrets in constant time. Hashing first keeps the time
// independent of the lengths too.
func secretEqual(given, want string) bool {
	g, w := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
