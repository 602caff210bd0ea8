package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// TestOAuth2Client signs in and refreshes with golang.org/x/oauth2, the way a Go
// client of gatepass would, with the client id in each place the library puts it.
func TestOAuth2Client(t *testing.T) {
	tests := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{name: "in-header", style: oauth2.AuthStyleInHeader},
		{name: "in-params", style: oauth2.AuthStyleInParams},
		{name: "auto-detect", style: oauth2.AuthStyleAutoDetect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartEnv(t)
			e.MustCreateUser(t, testUser, "")
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
			conf := &oauth2.Config{
				ClientID: "my-app",
				Endpoint: oauth2.Endpoint{
					TokenURL:  e.srv.URL + "/oauth/token",
					AuthStyle: tt.style,
				},
				Scopes: []string{"profile"},
			}

			// Sign in.
			tok, err := conf.PasswordCredentialsToken(ctx, testUser, testPassword)
			if err != nil {
				t.Fatalf("password grant: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken == "" ||
				tok.Extra("scope") != "profile" || time.Until(tok.Expiry) < 14*time.Minute {
				t.Errorf("token type %q, expiry %v, scope %v", tok.TokenType, tok.Expiry,
					tok.Extra("scope"))
			}
			me := e.Get(t, "/auth/me", tok.AccessToken)
			if me.String(t, "client_id") != "my-app" || me.String(t, "scope") != "profile" {
				t.Errorf("GET /auth/me = %s", me.body)
			}

			// An expired token makes the token source refresh by itself.
			expired := *tok
			expired.Expiry = time.Now().Add(-time.Minute)
			next, err := conf.TokenSource(ctx, &expired).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
				t.Errorf("refresh did not rotate the tokens")
			}
			if res := e.Get(t, "/auth/me", next.AccessToken); res.status != http.StatusOK {
				t.Errorf("refreshed token: status %d, body %s", res.status, res.body)
			}

			// A library error carries the RFC 6749 error code.
			_, err = conf.PasswordCredentialsToken(ctx, testUser, "wrong password")
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Errorf("wrong password: %v, want a RetrieveError with invalid_grant", err)
			}
		})
	}
}

// jwkSet is the subset of RFC 7517 the test reads.
type jwkSet struct {
	Keys []struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		D   string `json:"d"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	} `json:"keys"`
}

// TestAccessTokenVerifiesWithJWT checks an issued access token with an independent
// implementation, golang-jwt, against the key published in the JWKS.
func TestAccessTokenVerifiesWithJWT(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	sid := e.Get(t, "/auth/me", tok.AccessToken).String(t, "session_id")

	// The public key, from the JWKS alone.
	var set jwkSet
	if err := json.Unmarshal(e.Get(t, "/.well-known/jwks.json", "").body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" || k.D != "" {
		t.Fatalf("JWK = %+v", k)
	}
	x, errX := base64.RawURLEncoding.DecodeString(k.X)
	y, errY := base64.RawURLEncoding.DecodeString(k.Y)
	if errX != nil || errY != nil {
		t.Fatalf("JWK coordinates: %v, %v", errX, errY)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(),
		append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("JWK public key: %v", err)
	}

	// Verify with golang-jwt, on the test's clock.
	keyFunc := func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != k.Kid {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(e.clock.Now),
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok.AccessToken, claims, keyFunc, opts...)
	if err != nil {
		t.Fatalf("golang-jwt rejects the access token: %v", err)
	}

	if got := parsed.Header["typ"]; got != "at+jwt" {
		t.Errorf("typ = %v, want at+jwt", got)
	}
	now := float64(startTime.Unix())
	want := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": "1", "sid": sid,
		"client_id": "gatepass", "scope": "profile email", "preferred_username": testUser,
		"iat": now, "nbf": now, "exp": now + 900, "jti": claims["jti"],
	}
	if diff := cmp.Diff(claims, want); diff != "" || claims["jti"] == "" {
		t.Errorf("claims (-got +want):\n%s", diff)
	}

	// Both implementations agree that it expires.
	e.clock.Advance(16 * time.Minute)
	if _, err := jwt.Parse(tok.AccessToken, keyFunc, opts...); !errors.Is(err,
		jwt.ErrTokenExpired) {
		t.Errorf("golang-jwt after expiry: %v, want ErrTokenExpired", err)
	}
	wantError(t, e.Get(t, "/auth/me", tok.AccessToken), http.StatusUnauthorized,
		"invalid_token")
}
