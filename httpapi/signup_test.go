package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// TestSignUpOff checks that sign-up is 404 unless enabled, and creates nothing.
func TestSignUpOff(t *testing.T) {
	e := MustStartEnv(t)
	res := e.Do(t, http.MethodPost, "/auth/signup", formType,
		"username=carol&password=a+long+unusual+password", nil)
	if res.status != http.StatusNotFound || res.String(t, "error") != "not_found" {
		t.Errorf("status %d, body %s", res.status, res.body)
	}
	users, err := e.svc.FindUsers(context.Background(), gatepass.UserFilter{})
	if err != nil || len(users) != 0 {
		t.Errorf("users = %v, %v", users, err)
	}
}

// TestSignUp creates accounts with form and JSON bodies and checks that they are
// signed in at once, as by /auth/login.
func TestSignUp(t *testing.T) {
	e := MustOpenEnv(t, envOptions{signUp: true})

	res := e.Do(t, http.MethodPost, "/auth/signup", formType,
		"username=carol&email=carol%40example.test&password=a+long+unusual+password", nil)
	cs := e.MustCookieSession(t, res, http.StatusCreated)
	if diff := cmp.Diff(attrsOf(setCookies(t, res)), wantSessionCookies(false)); diff != "" {
		t.Errorf("cookies (-got +want):\n%s", diff)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if cs.body.User.Username != "carol" || cs.body.User.Email != "carol@example.test" ||
		cs.body.User.UserID != "1" || cs.body.ExpiresIn != 900 ||
		cs.body.Scope != "profile email" {
		t.Errorf("body = %+v", cs.body)
	}
	me := e.Do(t, http.MethodGet, "/auth/me", "", "", http.Header{"Cookie": {cs.Cookies()}})
	if me.String(t, "username") != "carol" {
		t.Errorf("GET /auth/me after sign-up: status %d, body %s", me.status, me.body)
	}

	// JSON, without an e-mail address; then the new account signs in.
	res = e.Do(t, http.MethodPost, "/auth/signup", jsonType,
		`{"username":"dave","password":"another long password"}`, nil)
	e.MustCookieSession(t, res, http.StatusCreated)
	e.MustCookieSession(t, e.CookieLogin(t, "dave", "another long password", nil),
		http.StatusOK)
}

// TestSignUpRefused checks field errors, the taken name, and that a refused
// sign-up creates nothing.
func TestSignUpRefused(t *testing.T) {
	e := MustOpenEnv(t, envOptions{signUp: true})
	e.MustCreateUser(t, testUser, "")

	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantError  string
		wantField  string
		wantPrefix string
	}{
		{name: "common-password", body: `{"username":"carol","password":"password123"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "password",
			wantPrefix: "password is too common"},
		{name: "password-is-name",
			body:       `{"username":"carolcarol","password":"CarolCarol"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "password"},
		{name: "short-password", body: `{"username":"carol","password":"short"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "password"},
		{name: "missing-password", body: `{"username":"carol"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "password"},
		{name: "bad-username", body: `{"username":"carol smith","password":"a long password"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "username"},
		{name: "missing-username", body: `{"password":"a long unusual password"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "username"},
		{name: "bad-email",
			body: `{"username":"carol","email":"not an address",` +
				`"password":"a long password"}`,
			wantStatus: 400, wantError: "invalid_request", wantField: "email"},
		{name: "taken", body: `{"username":"alice","password":"a long unusual password"}`,
			wantStatus: 409, wantError: "conflict", wantField: "username",
			wantPrefix: "username is already taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(t, http.MethodPost, "/auth/signup", jsonType, tt.body, nil)
			wantError(t, res, tt.wantStatus, tt.wantError)
			fields, _ := res.JSON(t)["fields"].(map[string]any)
			msg, _ := fields[tt.wantField].(string)
			if len(fields) != 1 || msg == "" || !strings.HasPrefix(msg, tt.wantPrefix) {
				t.Errorf("fields = %v, want %s starting %q", fields, tt.wantField,
					tt.wantPrefix)
			}
			if len(res.header.Values("Set-Cookie")) != 0 {
				t.Errorf("a refused sign-up set cookies")
			}
		})
	}

	users, err := e.svc.FindUsers(context.Background(), gatepass.UserFilter{})
	if err != nil || len(users) != 1 {
		t.Errorf("%d users after refused sign-ups, want 1 (%v)", len(users), err)
	}
}
