package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// form encodes alternating keys and values, keeping repeats and order.
func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// TestTokenBadRequests sends every kind of bad token request. None may cause a
// 5xx, and none may start a session.
func TestTokenBadRequests(t *testing.T) {
	e := MustStartEnv(t)
	alice := e.MustCreateUser(t, testUser, "")
	bob := e.MustCreateUser(t, "bob", "")
	if err := e.svc.SetDisabled(context.Background(), "bob", true); err != nil {
		t.Fatal(err)
	}
	login := func(user, pw string) string {
		return form("grant_type", "password", "username", user, "password", pw)
	}

	tests := []struct {
		name          string
		contentType   string
		body          string
		authorization string
		wantStatus    int
		wantError     string
	}{{
		name:        "malformed-json",
		contentType: jsonType,
		body:        `{"grant_type":"password",`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-number-password",
		contentType: jsonType,
		body:        `{"grant_type":"password","username":"alice","password":12345678}`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-null-value",
		contentType: jsonType,
		body:        `{"grant_type":"password","username":null}`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-nested-object",
		contentType: jsonType,
		body:        `{"grant_type":{"type":"password"}}`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-array",
		contentType: jsonType,
		body:        `["grant_type","password"]`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-trailing-data",
		contentType: jsonType,
		body:        `{"grant_type":"password"} {}`,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "json-duplicate-key",
		contentType: jsonType,
		body: `{"grant_type":"password","username":"alice","password":"x",` +
			`"username":"bob"}`,
		wantStatus: http.StatusBadRequest,
		wantError:  "invalid_request",
	}, {
		name:        "json-empty-body",
		contentType: jsonType,
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "wrong-content-type",
		contentType: "text/plain",
		body:        login(testUser, testPassword),
		wantStatus:  http.StatusUnsupportedMediaType,
		wantError:   "invalid_request",
	}, {
		name:        "multipart-content-type",
		contentType: "multipart/form-data; boundary=x",
		body:        "--x--",
		wantStatus:  http.StatusUnsupportedMediaType,
		wantError:   "invalid_request",
	}, {
		name:       "no-content-type",
		body:       login(testUser, testPassword),
		wantStatus: http.StatusUnsupportedMediaType,
		wantError:  "invalid_request",
	}, {
		name:        "body-too-large",
		contentType: formType,
		body:        login(testUser, testPassword) + "&pad=" + strings.Repeat("a", 1<<20),
		wantStatus:  http.StatusRequestEntityTooLarge,
		wantError:   "invalid_request",
	}, {
		name:        "malformed-form",
		contentType: formType,
		body:        "grant_type=password&username=%zz",
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "missing-grant-type",
		contentType: formType,
		body:        form("username", testUser, "password", testPassword),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "unknown-grant-type",
		contentType: formType,
		body:        form("grant_type", "client_credentials"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "unsupported_grant_type",
	}, {
		name:        "duplicated-parameter",
		contentType: formType,
		body:        login(testUser, testPassword) + "&" + form("username", "bob"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "duplicated-grant-type",
		contentType: formType,
		body:        form("grant_type", "password", "grant_type", "refresh_token"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "missing-username",
		contentType: formType,
		body:        form("grant_type", "password", "password", testPassword),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "empty-username",
		contentType: formType,
		body:        login("", testPassword),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "missing-password",
		contentType: formType,
		body:        form("grant_type", "password", "username", testUser),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "missing-refresh-token",
		contentType: formType,
		body:        form("grant_type", "refresh_token"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "garbage-refresh-token",
		contentType: formType,
		body:        form("grant_type", "refresh_token", "refresh_token", "not-a-token"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_grant",
	}, {
		name:        "unknown-user",
		contentType: formType,
		body:        login("mallory", testPassword),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_grant",
	}, {
		name:        "wrong-password",
		contentType: formType,
		body:        login(testUser, "wrong password"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_grant",
	}, {
		name:        "disabled-user",
		contentType: formType,
		body:        login("bob", testPassword),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_grant",
	}, {
		name:        "scope-not-allowed",
		contentType: formType,
		body:        login(testUser, testPassword) + "&" + form("scope", "profile admin"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_scope",
	}, {
		name:        "malformed-client-id",
		contentType: formType,
		body:        login(testUser, testPassword) + "&" + form("client_id", "my app!"),
		wantStatus:  http.StatusBadRequest,
		wantError:   "invalid_request",
	}, {
		name:        "client-secret-parameter",
		contentType: formType,
		body: login(testUser, testPassword) + "&" +
			form("client_id", "my-app", "client_secret", "s"),
		wantStatus: http.StatusUnauthorized,
		wantError:  "invalid_client",
	}, {
		name:          "basic-with-secret",
		contentType:   formType,
		body:          login(testUser, testPassword),
		authorization: basicAuth("my-app", "s"),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_client",
	}, {
		name:          "basic-malformed",
		contentType:   formType,
		body:          login(testUser, testPassword),
		authorization: "Basic !!!",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_client",
	}, {
		name:          "bearer-authorization",
		contentType:   formType,
		body:          login(testUser, testPassword),
		authorization: "Bearer abc",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_client",
	}, {
		name:          "basic-and-parameter-differ",
		contentType:   formType,
		body:          login(testUser, testPassword) + "&" + form("client_id", "other-app"),
		authorization: basicAuth("my-app", ""),
		wantStatus:    http.StatusBadRequest,
		wantError:     "invalid_request",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			res := e.Do(t, http.MethodPost, "/oauth/token", tt.contentType, tt.body, h)

			wantError(t, res, tt.wantStatus, tt.wantError)
			if res.String(t, "error_description") == "" {
				t.Errorf("no error_description in %s", res.body)
			}
			if tt.wantError == "invalid_client" {
				got := res.header.Get("WWW-Authenticate")
				if got != `Basic realm="gatepass"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			}
		})
	}

	// Nothing above may have started a session.
	if n := len(e.Sessions(t, alice.ID)) + len(e.Sessions(t, bob.ID)); n != 0 {
		t.Errorf("bad requests stored %d sessions", n)
	}
}

// TestTokenLoginFailuresAlike checks that an unknown user, a wrong password and a
// disabled account get byte-identical answers.
func TestTokenLoginFailuresAlike(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	e.MustCreateUser(t, "bob", "")
	if err := e.svc.SetDisabled(context.Background(), "bob", true); err != nil {
		t.Fatal(err)
	}

	unknown := e.Login(t, "mallory", testPassword)
	wrong := e.Login(t, testUser, "wrong password")
	disabled := e.Login(t, "bob", testPassword)
	for name, res := range map[string]*response{"wrong-password": wrong, "disabled": disabled} {
		if res.status != unknown.status || string(res.body) != string(unknown.body) {
			t.Errorf("%s: %d %s, unknown user: %d %s", name, res.status, res.body,
				unknown.status, unknown.body)
		}
	}
}

// TestTokenAccepted covers the accepted request shapes and client identification.
func TestTokenAccepted(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")

	tests := []struct {
		name          string
		contentType   string
		body          string
		authorization string
		wantClient    string
		wantScope     string
	}{{
		name:        "form-with-charset",
		contentType: "application/x-www-form-urlencoded; charset=UTF-8",
		body: form("grant_type", "password", "username", testUser,
			"password", testPassword),
		wantClient: "gatepass",
		wantScope:  "profile email",
	}, {
		name:        "json",
		contentType: "application/json; charset=utf-8",
		body: `{"grant_type":"password","username":"alice",` +
			`"password":"correct horse battery","scope":"email","client_id":"spa"}`,
		wantClient: "spa",
		wantScope:  "email",
	}, {
		name:        "client-id-parameter",
		contentType: formType,
		body: form("grant_type", "password", "username", testUser, "password", testPassword,
			"client_id", "my-app"),
		wantClient: "my-app",
		wantScope:  "profile email",
	}, {
		name:        "client-id-in-basic",
		contentType: formType,
		body: form("grant_type", "password", "username", testUser,
			"password", testPassword),
		authorization: basicAuth("my-app", ""),
		wantClient:    "my-app",
		wantScope:     "profile email",
	}, {
		name:        "client-id-in-both",
		contentType: formType,
		body: form("grant_type", "password", "username", testUser, "password", testPassword,
			"client_id", "my-app"),
		authorization: "basic " + b64("my-app:"),
		wantClient:    "my-app",
		wantScope:     "profile email",
	}, {
		name:        "empty-parameter-is-omitted",
		contentType: formType,
		body: form("grant_type", "password", "username", testUser, "password", testPassword,
			"scope", "", "client_id", ""),
		wantClient: "gatepass",
		wantScope:  "profile email",
	}, {
		name:        "unknown-parameter-ignored",
		contentType: formType,
		body: form("grant_type", "password", "username", testUser, "password", testPassword,
			"audience", "x"),
		wantClient: "gatepass",
		wantScope:  "profile email",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			tok := MustTokens(t, e.Do(t, http.MethodPost, "/oauth/token", tt.contentType,
				tt.body, h))

			me := e.Get(t, "/auth/me", tok.AccessToken)
			if got := me.String(t, "client_id"); got != tt.wantClient {
				t.Errorf("client_id = %q, want %q", got, tt.wantClient)
			}
			if tok.Scope != tt.wantScope || me.String(t, "scope") != tt.wantScope {
				t.Errorf("scope = %q and %q, want %q", tok.Scope, me.String(t, "scope"),
					tt.wantScope)
			}
		})
	}
}

// TestTokenRefreshNarrowsScope checks the optional scope of the refresh grant.
func TestTokenRefreshNarrowsScope(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)

	res := e.PostForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}, "scope": {"email"}})
	if got := MustTokens(t, res).Scope; got != "email" {
		t.Errorf("scope = %q, want email", got)
	}

	res = e.PostForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {MustTokens(t, res).RefreshToken}, "scope": {"admin"}})
	wantError(t, res, http.StatusBadRequest, "invalid_scope")
}
