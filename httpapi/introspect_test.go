package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestIntrospectAuthentication checks that only holders of the secret may ask.
func TestIntrospectAuthentication(t *testing.T) {
	e := MustOpenEnv(t, envOptions{introspectionSecret: testSecret})
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)

	tests := []struct {
		name          string
		authorization string
		wantStatus    int
	}{
		{name: "none", wantStatus: http.StatusUnauthorized},
		{name: "wrong-basic", authorization: basicAuth("rs", "wrong"),
			wantStatus: http.StatusUnauthorized},
		{name: "secret-as-user", authorization: basicAuth(testSecret, ""),
			wantStatus: http.StatusUnauthorized},
		{name: "wrong-bearer", authorization: "Bearer wrong",
			wantStatus: http.StatusUnauthorized},
		{name: "access-token-as-bearer", authorization: "Bearer " + tok.AccessToken,
			wantStatus: http.StatusUnauthorized},
		{name: "basic", authorization: basicAuth("rs", testSecret),
			wantStatus: http.StatusOK},
		{name: "basic-not-form-encoded", authorization: rawBasicAuth("rs", testSecret),
			wantStatus: http.StatusOK},
		{name: "bearer", authorization: "bearer " + testSecret, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			res := e.Do(t, http.MethodPost, "/oauth/introspect", formType,
				url.Values{"token": {tok.AccessToken}}.Encode(), h)

			if tt.wantStatus == http.StatusOK {
				if res.status != http.StatusOK || res.JSON(t)["active"] != true {
					t.Errorf("status %d, body %s, want an active token", res.status, res.body)
				}
				return
			}
			wantError(t, res, tt.wantStatus, "invalid_client")
			if got := res.header.Get("WWW-Authenticate"); got != `Basic realm="gatepass"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}
}

// TestIntrospectDisabled checks that without a secret nobody may introspect.
func TestIntrospectDisabled(t *testing.T) {
	e := MustStartEnv(t)
	for _, a := range []string{basicAuth("rs", ""), "Bearer ", rawBasicAuth("", "")} {
		h := http.Header{"Authorization": {a}}
		res := e.Do(t, http.MethodPost, "/oauth/introspect", formType, "token=x", h)
		wantError(t, res, http.StatusUnauthorized, "invalid_client")
	}
}

// TestIntrospect checks the answers for live, dead and foreign tokens.
func TestIntrospect(t *testing.T) {
	e := MustOpenEnv(t, envOptions{introspectionSecret: testSecret})
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	sid := e.Get(t, "/auth/me", tok.AccessToken).String(t, "session_id")
	now := startTime.Unix()

	// A live access token.
	res := e.Introspect(t, tok.AccessToken)
	got := res.JSON(t)
	jti, _ := got["jti"].(string)
	want := map[string]any{
		"active": true, "scope": "profile email", "client_id": "gatepass",
		"username": testUser, "token_type": "access_token", "exp": float64(now + 900),
		"iat": float64(now), "nbf": float64(now), "sub": "1", "aud": testAudience,
		"iss": testIssuer, "jti": jti, "sid": sid,
	}
	if diff := cmp.Diff(got, want); diff != "" || jti == "" {
		t.Errorf("access token introspection (-got +want):\n%s", diff)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}

	// A live refresh token: no aud, jti or nbf, and its own lifetime.
	want = map[string]any{
		"active": true, "scope": "profile email", "client_id": "gatepass",
		"username": testUser, "token_type": "refresh_token",
		"exp": float64(now + int64(7*24*time.Hour/time.Second)), "iat": float64(now),
		"sub": "1", "iss": testIssuer, "sid": sid,
	}
	if diff := cmp.Diff(e.Introspect(t, tok.RefreshToken).JSON(t), want); diff != "" {
		t.Errorf("refresh token introspection (-got +want):\n%s", diff)
	}

	// Anything that is not a live token of ours says only that.
	e.clock.Advance(time.Minute)
	rotated := MustTokens(t, e.Refresh(t, tok.RefreshToken))
	for name, tok := range map[string]string{
		"garbage":        "garbage",
		"used-refresh":   tok.RefreshToken,
		"unknown-shaped": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		if got := string(e.Introspect(t, tok).body); got != "{\"active\":false}\n" {
			t.Errorf("%s: introspection = %s", name, got)
		}
	}

	// The hint only orders the lookups.
	res = e.Do(t, http.MethodPost, "/oauth/introspect", jsonType,
		`{"token":"`+rotated.AccessToken+`","token_type_hint":"refresh_token"}`,
		http.Header{"Authorization": {"Bearer " + testSecret}})
	if got := res.JSON(t); got["active"] != true || got["iat"] != float64(now+60) {
		t.Errorf("access token with a refresh hint: %s, want active, iat %d", res.body,
			now+60)
	}

	// A missing token is a bad request.
	h := http.Header{"Authorization": {basicAuth("rs", testSecret)}}
	res = e.Do(t, http.MethodPost, "/oauth/introspect", formType, "", h)
	wantError(t, res, http.StatusBadRequest, "invalid_request")
}
