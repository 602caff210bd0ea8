package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatepass/gatepass/auth"
)

// metadataPath is where RFC 8414 section 3 puts the authorization server metadata.
const metadataPath = "/.well-known/oauth-authorization-server"

// handleJWKS publishes the public signing keys (RFC 7517). The short max-age lets
// resource servers see a rotated key within a minute without asking on every
// request; a retired key stays published far longer than that.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(s.svc.JWKS())
}

// handleMetadata serves the RFC 8414 document, at the well-known path itself and,
// for an issuer with a path, at the well-known path followed by the issuer's path,
// where section 3.1 tells clients to look.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	if suffix := r.PathValue("path"); suffix != "" && suffix != s.issuerPath {
		writeNotFound(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(s.metadata)
}

// metadata is the RFC 8414 section 2 document.
type metadata struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	JWKSURI               string `json:"jwks_uri"`

	ScopesSupported        []string `json:"scopes_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
	GrantTypesSupported    []string `json:"grant_types_supported"`

	TokenEndpointAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
}

// buildMetadata renders the metadata document for cfg. Endpoint URLs extend the
// issuer, path included, so a service mounted under a prefix advertises the
// right places.
func buildMetadata(cfg auth.Config) []byte {
	base := strings.TrimSuffix(cfg.Issuer, "/")
	m := metadata{
		Issuer:                cfg.Issuer,
		TokenEndpoint:         base + "/oauth/token",
		RevocationEndpoint:    base + "/oauth/revoke",
		IntrospectionEndpoint: base + "/oauth/introspect",
		JWKSURI:               base + "/.well-known/jwks.json",

		// Empty lists, not null: the members are required and there is no
		// authorization endpoint, hence no response types.
		ScopesSupported:        append([]string{}, cfg.Scopes...),
		ResponseTypesSupported: []string{},
		GrantTypesSupported:    []string{"password", "refresh_token"},

		TokenEndpointAuthMethods:         []string{"none"},
		RevocationEndpointAuthMethods:    []string{"none"},
		IntrospectionEndpointAuthMethods: []string{"client_secret_basic"},
	}

	// A struct of strings and string slices always encodes.
	b, _ := json.Marshal(m)
	return append(b, '\n')
}

// issuerPath is the path of the issuer URL without its leading and trailing
// slashes, as a {path...} wildcard holds it; "" for an issuer at the root.
func issuerPath(cfg auth.Config) string {
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return ""
	}
	return strings.Trim(u.Path, "/")
}
