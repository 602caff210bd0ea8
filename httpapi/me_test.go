package httpapi_test

import (
	"context"
	"net/http"
	"testing"
)

// TestMeAuthentication checks how GET /auth/me treats the Authorization header.
func TestMeAuthentication(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)

	const challenge = `Bearer realm="gatepass"`
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantError     string
		wantChallenge string
	}{{
		name:          "bearer",
		authorization: "Bearer " + tok.AccessToken,
		wantStatus:    http.StatusOK,
	}, {
		name:          "scheme-in-lower-case",
		authorization: "bearer " + tok.AccessToken,
		wantStatus:    http.StatusOK,
	}, {
		name:          "missing",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challenge,
	}, {
		name:          "other-scheme",
		authorization: basicAuth(testUser, testPassword),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challenge,
	}, {
		name:          "empty-token",
		authorization: "Bearer ",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challenge,
	}, {
		name:          "garbage",
		authorization: "Bearer garbage",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challenge + `, error="invalid_token", ` +
			`error_description="token is malformed"`,
	}, {
		name:          "refresh-token",
		authorization: "Bearer " + tok.RefreshToken,
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challenge + `, error="invalid_token", ` +
			`error_description="token is malformed"`,
	}, {
		name:          "tampered",
		authorization: "Bearer " + tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challenge + `, error="invalid_token", ` +
			`error_description="token signature is invalid"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			res := e.Do(t, http.MethodGet, "/auth/me", "", "", h)

			if tt.wantStatus == http.StatusOK {
				if res.status != http.StatusOK || res.String(t, "username") != testUser {
					t.Errorf("status %d, body %s", res.status, res.body)
				}
				return
			}
			wantError(t, res, tt.wantStatus, tt.wantError)
			if got := res.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
		})
	}
}

// TestMeDisabledUser checks that a disabled account is refused at once, although
// its access token still verifies.
func TestMeDisabledUser(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	if err := e.svc.SetDisabled(context.Background(), testUser, true); err != nil {
		t.Fatal(err)
	}

	res := e.Get(t, "/auth/me", tok.AccessToken)
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	if got := res.header.Get("WWW-Authenticate"); got == "" {
		t.Errorf("no WWW-Authenticate challenge")
	}
}
