package httpapi

import (
	"net/http"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// tokenResponse is a successful token response (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope,omitempty"`
}

// handleToken is the token endpoint: the password grant signs in, the
// refresh_token grant rotates a refresh token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	p, err := s.decodeParams(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	client, err := tokenClient(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	var pair *auth.TokenPair
	switch grant := p["grant_type"]; grant {
	case "password":
		pair, err = s.passwordGrant(r, p, client)
	case "refresh_token":
		pair, err = s.refreshGrant(r, p, client)
	case "":
		err = gatepass.Errorf(gatepass.EINVALID, "missing parameter grant_type")
	default:
		err = gatepass.Errorf(codeUnsupportedGrantType,
			"grant_type must be password or refresh_token")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	// RFC 6749 section 5.1: token responses must not be cached anywhere.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  pair.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    pair.ExpiresIn,
		RefreshToken: pair.RefreshToken,
		Scope:        pair.Scope,
	})
}

// passwordGrant signs a user in (RFC 6749 section 4.3).
func (s *Server) passwordGrant(r *http.Request, p params, c auth.Client) (*auth.TokenPair,
	error) {
	username, err := p.require("username")
	if err != nil {
		return nil, err
	}
	password, err := p.require("password")
	if err != nil {
		return nil, err
	}

	return s.svc.Login(r.Context(), auth.LoginRequest{
		Username: username,
		Password: password,
		Scope:    p["scope"],
		Client:   c,
	})
}

// refreshGrant rotates a refresh token (RFC 6749 section 6).
func (s *Server) refreshGrant(r *http.Request, p params, c auth.Client) (*auth.TokenPair,
	error) {
	refresh, err := p.require("refresh_token")
	if err != nil {
		return nil, err
	}
	return s.svc.Refresh(r.Context(), auth.RefreshRequest{
		RefreshToken: refresh,
		Scope:        p["scope"],
		Client:       c,
	})
}

// tokenClient identifies the client of a token request. gatepass has only public
// clients (RFC 6749 section 2.1), so a client_id may come as a parameter or as the
// user name of HTTP Basic with an empty password, which is what OAuth libraries
// send for a public client. A client secret, in either place, is refused: accepting
// and ignoring it would let a confidential client believe it is authenticated.
func tokenClient(r *http.Request, p params) (auth.Client, error) {
	c := auth.Client{ID: p["client_id"], IPAddress: clientIP(r), UserAgent: r.UserAgent()}
	if p["client_secret"] != "" {
		return c, gatepass.Errorf(codeInvalidClient, "client authentication is not supported")
	}
	if r.Header.Get("Authorization") == "" {
		return c, nil
	}

	id, secret, ok := basicCredentials(r)
	if !ok {
		return c, gatepass.Errorf(codeInvalidClient, "authorization must be HTTP Basic")
	} else if secret != "" {
		return c, gatepass.Errorf(codeInvalidClient, "client authentication is not supported")
	} else if id != "" && c.ID != "" && id != c.ID {
		return c, gatepass.Errorf(gatepass.EINVALID, "client_id differs from the Basic user")
	}

	if id != "" {
		c.ID = id
	}
	return c, nil
}
