package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
)

// TestRevoke checks that revoking either token of a session ends the session, and
// that the endpoint answers alike for tokens it does not know.
func TestRevoke(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(tokens) url.Values
	}{{
		name: "refresh-token",
		revoke: func(tok tokens) url.Values {
			return url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
		},
	}, {
		name: "access-token",
		revoke: func(tok tokens) url.Values {
			return url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
		},
	}, {
		name: "access-token-with-wrong-hint",
		revoke: func(tok tokens) url.Values {
			return url.Values{"token": {tok.AccessToken}, "token_type_hint": {"refresh_token"}}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustOpenEnv(t, envOptions{introspectionSecret: testSecret})
			u := e.MustCreateUser(t, testUser, "")
			tok := e.MustLogin(t, testUser)

			res := e.PostForm(t, "/oauth/revoke", tt.revoke(tok))
			if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != "{}" {
				t.Fatalf("revoke: status %d, body %s", res.status, res.body)
			}

			// The session is dead for every token of it.
			wantError(t, e.Refresh(t, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
			for _, tok := range []string{tok.AccessToken, tok.RefreshToken} {
				if got := string(e.Introspect(t, tok).body); got != "{\"active\":false}\n" {
					t.Errorf("introspection after revoke = %s", got)
				}
			}
			s := e.Sessions(t, u.ID)
			if len(s) != 1 || s[0].RevokeReason != gatepass.RevokeLogout {
				t.Errorf("stored sessions = %+v, want one revoked at logout", s)
			}
		})
	}
}

// TestRevokeUnknownTokens checks RFC 7009 section 2.2: invalid and unknown tokens
// get the same 200 as valid ones, and live sessions are untouched.
func TestRevokeUnknownTokens(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)

	for _, garbage := range []string{
		"garbage",
		strings.Repeat("A", 43), // shaped like a refresh token, never issued
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
	} {
		res := e.PostForm(t, "/oauth/revoke", url.Values{"token": {garbage}})
		if res.status != http.StatusOK {
			t.Errorf("revoke %q: status %d, body %s", garbage, res.status, res.body)
		}
	}
	res := e.Do(t, http.MethodPost, "/oauth/revoke", jsonType, `{"token":"garbage"}`, nil)
	if res.status != http.StatusOK {
		t.Errorf("revoke with JSON: status %d, body %s", res.status, res.body)
	}

	wantError(t, e.PostForm(t, "/oauth/revoke", url.Values{}), http.StatusBadRequest,
		"invalid_request")
	if s := e.Sessions(t, u.ID); len(s) != 1 || !s[0].RevokedAt.IsZero() {
		t.Errorf("stored sessions = %+v, want one live session", s)
	}
	MustTokens(t, e.Refresh(t, tok.RefreshToken))
}
