package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// The messages simplejwt and DRF answer with, as a front end sees them.
const (
	noActiveAccount = "No active account found with the given credentials"
	refreshDead     = "Token is invalid or expired"
	blacklisted     = "Token is blacklisted"
)

// MustStartSimpleJWTEnv starts a server with the simplejwt endpoints enabled.
func MustStartSimpleJWTEnv(tb testing.TB) *testEnv {
	tb.Helper()
	return enableSimpleJWT(tb, MustStartEnv(tb))
}

// enableSimpleJWT turns the simplejwt endpoints on. The setting is read while
// serving, so the server is replaced by one started after the change.
func enableSimpleJWT(tb testing.TB, e *testEnv) *testEnv {
	tb.Helper()
	e.srv.Close()
	e.api.SimpleJWTCompat = true
	e.srv = httptest.NewServer(e.seen.wrap(e.api.Handler()))
	tb.Cleanup(e.srv.Close)
	return e
}

// PostJSON posts v encoded as JSON.
func (e *testEnv) PostJSON(tb testing.TB, path string, v any) *response {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return e.Do(tb, http.MethodPost, path, jsonType, string(b), nil)
}

// simpleJWTPair is the answer of POST /api/token/ and /api/token/refresh/.
type simpleJWTPair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// MustSimpleJWTPair checks a successful token answer and returns its tokens: 200,
// exactly "access" and "refresh", not cacheable.
func MustSimpleJWTPair(tb testing.TB, r *response) simpleJWTPair {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("status %d, body %s", r.status, r.body)
	}
	m := r.JSON(tb)
	var p simpleJWTPair
	p.Access, _ = m["access"].(string)
	p.Refresh, _ = m["refresh"].(string)
	if len(m) != 2 || p.Access == "" || p.Refresh == "" {
		tb.Fatalf("body %s, want only access and refresh", r.body)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
	return p
}

// MustObtain signs the user in at /api/token/ with the test password.
func (e *testEnv) MustObtain(tb testing.TB, user string) simpleJWTPair {
	tb.Helper()
	return MustSimpleJWTPair(tb, e.PostJSON(tb, "/api/token/",
		map[string]string{"username": user, "password": testPassword}))
}

// wantDRF checks an answer's status and its JSON body, compared in full.
func wantDRF(tb testing.TB, r *response, status int, want map[string]any) {
	tb.Helper()
	if r.status != status {
		tb.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if diff := cmp.Diff(r.JSON(tb), want); diff != "" {
		tb.Errorf("body (-got +want):\n%s", diff)
	}
	if got := r.header.Get("Content-Type"); got != jsonType {
		tb.Errorf("Content-Type = %q, want %s", got, jsonType)
	}
}

// wantTokenNotValid checks simplejwt's 401 for a refused token, challenge
// included.
func wantTokenNotValid(tb testing.TB, r *response, detail string) {
	tb.Helper()
	wantDRF(tb, r, http.StatusUnauthorized,
		map[string]any{"detail": detail, "code": "token_not_valid"})
	if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="api"`; got != want {
		tb.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

// TestSimpleJWTDocumentedFlow follows simplejwt's documented examples: obtain a
// pair, call the API with the access token, refresh, verify, blacklist, and see
// the blacklisted token refused.
func TestSimpleJWTDocumentedFlow(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	u := e.MustCreateUser(t, testUser, testEmail)

	// curl -d '{"username": ..., "password": ...}' /api/token/
	first := e.MustObtain(t, testUser)
	me := e.Get(t, "/auth/me", first.Access)
	if me.status != http.StatusOK || me.String(t, "username") != testUser {
		t.Fatalf("GET /auth/me with the access token: %d %s", me.status, me.body)
	}
	sid := me.String(t, "session_id")

	// curl -d '{"refresh": ...}' /api/token/refresh/ rotates the refresh token.
	next := MustSimpleJWTPair(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": first.Refresh}))
	if next.Refresh == first.Refresh || next.Access == first.Access {
		t.Errorf("refresh did not rotate the tokens")
	}
	if got := e.Get(t, "/auth/me", next.Access).String(t, "session_id"); got != sid {
		t.Errorf("refreshed access token: session %q, want %q", got, sid)
	}

	// Both kinds of token verify.
	for _, tok := range []string{next.Access, next.Refresh} {
		wantDRF(t, e.PostJSON(t, "/api/token/verify/", map[string]string{"token": tok}),
			http.StatusOK, map[string]any{})
	}

	// curl -d '{"refresh": ...}' /api/token/blacklist/ ends the session.
	wantDRF(t, e.PostJSON(t, "/api/token/blacklist/",
		map[string]string{"refresh": next.Refresh}), http.StatusOK, map[string]any{})
	sess := e.SessionByID(t, sid)
	if sess.RevokedAt.IsZero() || sess.RevokeReason != gatepass.RevokeLogout {
		t.Errorf("session after blacklist: revoked at %v, reason %q", sess.RevokedAt,
			sess.RevokeReason)
	}

	// The blacklisted token is refused everywhere, and so is the session's access.
	wantTokenNotValid(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": next.Refresh}), blacklisted)
	wantTokenNotValid(t, e.PostJSON(t, "/api/token/verify/",
		map[string]string{"token": next.Refresh}), refreshDead)
	wantTokenNotValid(t, e.PostJSON(t, "/api/token/blacklist/",
		map[string]string{"refresh": next.Refresh}), refreshDead)
	wantError(t, e.Get(t, "/auth/me", next.Access), http.StatusUnauthorized,
		"invalid_token")
	if n := len(e.Sessions(t, u.ID)); n != 1 {
		t.Errorf("user has %d sessions, want 1", n)
	}

	// The log names sessions, never a token or the password.
	logs := e.logs.String()
	for _, secret := range []string{first.Access, first.Refresh, next.Access, next.Refresh,
		testPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret (%d chars)", len(secret))
		}
	}
}

// TestSimpleJWTObtainRefused checks that a wrong password, an unknown user and a
// disabled account get the same 401, and that none of them starts a session.
func TestSimpleJWTObtainRefused(t *testing.T) {
	tests := []struct {
		name     string
		username string
		password string
		disable  bool
	}{
		{name: "wrong-password", username: testUser, password: "wrong password"},
		{name: "unknown-user", username: "mallory", password: testPassword},
		{name: "disabled-user", username: testUser, password: testPassword, disable: true},
	}
	var bodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartSimpleJWTEnv(t)
			u := e.MustCreateUser(t, testUser, "")
			if tt.disable {
				if err := e.svc.SetDisabled(context.Background(), testUser,
					true); err != nil {
					t.Fatal(err)
				}
			}

			res := e.PostJSON(t, "/api/token/",
				map[string]string{"username": tt.username, "password": tt.password})
			wantDRF(t, res, http.StatusUnauthorized, map[string]any{"detail": noActiveAccount})
			if got, want := res.header.Get("WWW-Authenticate"),
				`Bearer realm="api"`; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if n := len(e.Sessions(t, u.ID)); n != 0 {
				t.Errorf("user has %d sessions, want 0", n)
			}
			bodies = append(bodies, string(res.body))
		})
	}
	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Errorf("answers differ:\n%s\n%s", bodies[0], bodies[i])
		}
	}
}

// TestSimpleJWTFieldErrors checks DRF's field errors for missing, blank and
// mistyped credentials, in JSON and in a form.
func TestSimpleJWTFieldErrors(t *testing.T) {
	required := []any{"This field is required."}
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		want        map[string]any
	}{
		{name: "empty-object", path: "/api/token/", contentType: jsonType, body: `{}`,
			want: map[string]any{"username": required, "password": required}},
		{name: "empty-body", path: "/api/token/", body: "",
			want: map[string]any{"username": required, "password": required}},
		{name: "missing-password", path: "/api/token/", contentType: jsonType,
			body: `{"username": "alice"}`, want: map[string]any{"password": required}},
		{name: "blank-username", path: "/api/token/", contentType: jsonType,
			body: `{"username": "  ", "password": "x"}`,
			want: map[string]any{"username": []any{"This field may not be blank."}}},
		{name: "null-password", path: "/api/token/", contentType: jsonType,
			body: `{"username": "alice", "password": null}`,
			want: map[string]any{"password": []any{"This field may not be null."}}},
		{name: "object-username", path: "/api/token/", contentType: jsonType,
			body: `{"username": {"$ne": ""}, "password": "x"}`,
			want: map[string]any{"username": []any{"Not a valid string."}}},
		{name: "null-character", path: "/api/token/", contentType: jsonType,
			body: `{"username": "alice\u0000", "password": "x"}`,
			want: map[string]any{"username": []any{"Null characters are not allowed."}}},
		{name: "not-an-object", path: "/api/token/", contentType: jsonType,
			body: `["alice", "x"]`, want: map[string]any{"non_field_errors": []any{
				"Invalid data. Expected a dictionary, but got list."}}},
		{name: "form-blank-username", path: "/api/token/", contentType: formType,
			body: "username=&password=x",
			want: map[string]any{"username": []any{"This field may not be blank."}}},
		{name: "refresh-missing", path: "/api/token/refresh/", contentType: jsonType,
			body: `{"refresh_token": "x"}`, want: map[string]any{"refresh": required}},
		{name: "verify-missing", path: "/api/token/verify/", contentType: jsonType,
			body: `{}`, want: map[string]any{"token": required}},
		{name: "blacklist-blank", path: "/api/token/blacklist/", contentType: formType,
			body: "refresh=", want: map[string]any{
				"refresh": []any{"This field may not be blank."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartSimpleJWTEnv(t)
			u := e.MustCreateUser(t, testUser, "")

			res := e.Do(t, http.MethodPost, tt.path, tt.contentType, tt.body, nil)
			wantDRF(t, res, http.StatusBadRequest, tt.want)
			if n := len(e.Sessions(t, u.ID)); n != 0 {
				t.Errorf("user has %d sessions, want 0", n)
			}
		})
	}
}

// TestSimpleJWTObtainEncodings signs in with each body DRF parses by default: the
// JSON of the documentation, a form, and the multipart body of a browser's
// FormData. White space around the user name is trimmed, as DRF does.
func TestSimpleJWTObtainEncodings(t *testing.T) {
	multipartBody, multipartType := multipartForm(t, map[string]string{
		"username": testUser, "password": testPassword})
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{name: "json", contentType: "application/json; charset=utf-8",
			body: `{"username": "alice", "password": "correct horse battery"}`},
		{name: "json-padded-username-extra-field", contentType: jsonType,
			body: `{"username": " alice ", "password": "correct horse battery", "x": 1}`},
		{name: "form", contentType: formType, body: url.Values{
			"username": {testUser}, "password": {testPassword}}.Encode()},
		{name: "multipart", contentType: multipartType, body: multipartBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartSimpleJWTEnv(t)
			e.MustCreateUser(t, testUser, "")

			pair := MustSimpleJWTPair(t, e.Do(t, http.MethodPost, "/api/token/",
				tt.contentType, tt.body, nil))
			if got := e.Get(t, "/auth/me", pair.Access).String(t, "username"); got !=
				testUser {
				t.Errorf("GET /auth/me: username %q, want %q", got, testUser)
			}
		})
	}
}

// multipartForm encodes fields as multipart/form-data and returns the body and
// its content type.
func multipartForm(tb testing.TB, fields map[string]string) (string, string) {
	tb.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.String(), mw.FormDataContentType()
}

// TestSimpleJWTBodyErrors checks the answers to bodies DRF cannot parse, on every
// endpoint, and that none of them repeats what was sent.
func TestSimpleJWTBodyErrors(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		detail      string
	}{
		{name: "text-plain", contentType: "text/plain; charset=utf-8",
			body: "username=alice&password=hunter2", status: http.StatusUnsupportedMediaType,
			detail: `Unsupported media type "text/plain" in request.`},
		{name: "no-content-type", body: "username=alice&password=hunter2",
			status: http.StatusUnsupportedMediaType,
			detail: `Unsupported media type "" in request.`},
		{name: "malformed-json", contentType: jsonType,
			body: `{"username": "alice", "password": "hunter2"`, status: http.StatusBadRequest,
			detail: "JSON parse error - request body is not valid JSON"},
		{name: "trailing-data", contentType: jsonType,
			body:   `{"username": "alice"} {"password": "hunter2"}`,
			status: http.StatusBadRequest,
			detail: "JSON parse error - request body is not valid JSON"},
		{name: "oversized", contentType: jsonType,
			body:   `{"username": "alice", "password": "` + strings.Repeat("a", 70<<10) + `"}`,
			status: http.StatusRequestEntityTooLarge, detail: "Request body is too large."},
	}
	paths := []string{"/api/token/", "/api/token/refresh/", "/api/token/verify/",
		"/api/token/blacklist/"}
	e := MustStartSimpleJWTEnv(t)
	for _, tt := range tests {
		for _, path := range paths {
			t.Run(tt.name+"-"+routeName(path), func(t *testing.T) {
				res := e.Do(t, http.MethodPost, path, tt.contentType, tt.body, nil)
				wantDRF(t, res, tt.status, map[string]any{"detail": tt.detail})
				if bytes.Contains(res.body, []byte("hunter2")) {
					t.Errorf("the answer repeats the request: %s", res.body)
				}
			})
		}
	}
}

// routeName turns a path into a kebab-case test name: /api/token/verify/ is
// api-token-verify.
func routeName(path string) string {
	return strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")
}

// TestSimpleJWTRefreshReuse checks that the refresh endpoint applies the reuse
// interval and reuse detection like the refresh_token grant: a rotated token
// replayed at once gets the current one back; replayed later, it ends the
// session, and the token that replaced it dies too.
func TestSimpleJWTRefreshReuse(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	first := e.MustObtain(t, testUser)
	sid := e.Get(t, "/auth/me", first.Access).String(t, "session_id")
	refresh := func(tok string) *response {
		return e.PostJSON(t, "/api/token/refresh/", map[string]string{"refresh": tok})
	}

	// Two tabs refreshing at once both get the same successor.
	second := MustSimpleJWTPair(t, refresh(first.Refresh))
	e.clock.Advance(2 * time.Second)
	again := MustSimpleJWTPair(t, refresh(first.Refresh))
	if again.Refresh != second.Refresh {
		t.Errorf("replay inside the reuse interval got a different refresh token")
	}

	// Later, the old token is theft: the session ends with it.
	e.clock.Advance(time.Minute)
	wantTokenNotValid(t, refresh(first.Refresh), blacklisted)
	sess := e.SessionByID(t, sid)
	if sess.RevokedAt.IsZero() || sess.RevokeReason != gatepass.RevokeReuse {
		t.Errorf("session: revoked at %v, reason %q, want revoked for reuse",
			sess.RevokedAt, sess.RevokeReason)
	}
	wantTokenNotValid(t, refresh(second.Refresh), blacklisted)
	wantError(t, e.Get(t, "/auth/me", second.Access), http.StatusUnauthorized,
		"invalid_token")
}

// TestSimpleJWTRefreshRefusals checks simplejwt's words for refresh tokens the
// refresh view refuses for other reasons than reuse: one never issued is
// invalid, one past its lifetime expired.
func TestSimpleJWTRefreshRefusals(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	pair := e.MustObtain(t, testUser)
	refresh := func(tok string) *response {
		return e.PostJSON(t, "/api/token/refresh/", map[string]string{"refresh": tok})
	}

	unknown := pair.Refresh[:len(pair.Refresh)-4] + "AAAA"
	wantTokenNotValid(t, refresh(unknown), "Token is invalid")

	e.clock.Advance(8 * 24 * time.Hour) // past the 7-day refresh lifetime
	wantTokenNotValid(t, refresh(pair.Refresh), "Token is expired")
}

// TestSimpleJWTVerify checks which tokens verify, and that verifying a refresh
// token neither uses it up nor sets off reuse detection.
func TestSimpleJWTVerify(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	pair := e.MustObtain(t, testUser)
	verify := func(tok string) *response {
		return e.PostJSON(t, "/api/token/verify/", map[string]string{"token": tok})
	}

	// Verifying the refresh token, twice, leaves it unused and working.
	for range 2 {
		wantDRF(t, verify(pair.Refresh), http.StatusOK, map[string]any{})
	}
	if rt := e.RefreshToken(t, pair.Refresh); !rt.UsedAt.IsZero() {
		t.Errorf("verify marked the refresh token used at %v", rt.UsedAt)
	}
	next := MustSimpleJWTPair(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": pair.Refresh}))

	// The rotated token no longer verifies; the one that replaced it does.
	wantTokenNotValid(t, verify(pair.Refresh), refreshDead)
	wantDRF(t, verify(next.Refresh), http.StatusOK, map[string]any{})

	// A tampered access token is invalid, an old one expired, garbage dead.
	head, _, _ := strings.Cut(next.Access, ".")
	forged := head + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(`{"sub":"2"}`)) + "." + strings.Repeat("A", 86)
	wantTokenNotValid(t, verify(forged), "Token is invalid")
	wantTokenNotValid(t, verify("not-a-token"), refreshDead)
	e.clock.Advance(20 * time.Minute)
	wantTokenNotValid(t, verify(next.Access), "Token is expired")
}

// TestSimpleJWTWrongTokenType checks that an access token sent where a refresh
// token belongs is refused as simplejwt refuses it, without ending the session.
func TestSimpleJWTWrongTokenType(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	pair := e.MustObtain(t, testUser)
	sid := e.Get(t, "/auth/me", pair.Access).String(t, "session_id")

	for _, path := range []string{"/api/token/refresh/", "/api/token/blacklist/"} {
		wantTokenNotValid(t, e.PostJSON(t, path, map[string]string{"refresh": pair.Access}),
			"Token has wrong type")
	}
	if sess := e.SessionByID(t, sid); !sess.RevokedAt.IsZero() {
		t.Errorf("session revoked (%s) by an access token", sess.RevokeReason)
	}
	MustSimpleJWTPair(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": pair.Refresh}))
}

// TestSimpleJWTBlacklistRotated checks that signing out with a refresh token
// another tab has already rotated gets simplejwt's 401 but still ends the
// session, so the sign-out takes effect.
func TestSimpleJWTBlacklistRotated(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	first := e.MustObtain(t, testUser)
	sid := e.Get(t, "/auth/me", first.Access).String(t, "session_id")
	second := MustSimpleJWTPair(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": first.Refresh}))

	wantTokenNotValid(t, e.PostJSON(t, "/api/token/blacklist/",
		map[string]string{"refresh": first.Refresh}), refreshDead)
	if sess := e.SessionByID(t, sid); sess.RevokeReason != gatepass.RevokeLogout {
		t.Errorf("session: revoked at %v, reason %q, want revoked by logout",
			sess.RevokedAt, sess.RevokeReason)
	}
	wantTokenNotValid(t, e.PostJSON(t, "/api/token/refresh/",
		map[string]string{"refresh": second.Refresh}), blacklisted)
}

// TestSimpleJWTStaleAuthorization checks that the Authorization header is
// ignored, as simplejwt's views ignore it: front ends often attach the last
// access token, expired or not, to every request.
func TestSimpleJWTStaleAuthorization(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	e.MustCreateUser(t, testUser, "")
	pair := e.MustObtain(t, testUser)
	e.clock.Advance(20 * time.Minute)

	h := http.Header{"Authorization": {"Bearer " + pair.Access}}
	body, _ := json.Marshal(map[string]string{"refresh": pair.Refresh})
	MustSimpleJWTPair(t, e.Do(t, http.MethodPost, "/api/token/refresh/", jsonType,
		string(body), h))
}

// TestSimpleJWTDisabled checks that without SimpleJWTCompat every endpoint is a
// 404 like a path that does not exist, and signs nobody in.
func TestSimpleJWTDisabled(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	unknown := e.PostJSON(t, "/api/no-such-path/", map[string]string{})

	bodies := map[string]any{
		"/api/token/":           map[string]string{"username": testUser, "password": testPassword},
		"/api/token/refresh/":   map[string]string{"refresh": "x"},
		"/api/token/verify/":    map[string]string{"token": "x"},
		"/api/token/blacklist/": map[string]string{"refresh": "x"},
	}
	for path, body := range bodies {
		t.Run(routeName(path), func(t *testing.T) {
			res := e.PostJSON(t, path, body)
			if res.status != http.StatusNotFound || !bytes.Equal(res.body, unknown.body) {
				t.Errorf("status %d, body %s; want 404 %s", res.status, res.body,
					unknown.body)
			}
		})
	}
	if n := len(e.Sessions(t, u.ID)); n != 0 {
		t.Errorf("user has %d sessions, want 0", n)
	}
}

// TestSimpleJWTRateLimited checks DRF's 429 for the 6th sign-in in a minute:
// the wait in the detail and in Retry-After, the same for any account.
func TestSimpleJWTRateLimited(t *testing.T) {
	e := enableSimpleJWT(t, MustStartLimitedEnv(t))
	e.MustCreateUser(t, testUser, "")
	obtain := func(pw string) *response {
		return e.PostJSON(t, "/api/token/",
			map[string]string{"username": testUser, "password": pw})
	}
	for i := range 5 {
		if res := obtain("wrong password"); res.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, res.status, res.body)
		}
	}

	res := obtain(testPassword)
	wantDRF(t, res, http.StatusTooManyRequests, map[string]any{
		"detail": "Request was throttled. Expected available in 12 seconds."})
	if got, want := res.header.Get("Retry-After"), "12"; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}

	// Once the wait is over, the right password works.
	e.clock.Advance(12 * time.Second)
	MustSimpleJWTPair(t, obtain(testPassword))
}

// TestSimpleJWTAccessTokenClaims decodes the access token from /api/token/ with
// golang-jwt and the published JWKS, as a Django resource server would with
// simplejwt's JWK_URL, and shows the claims it sees: gatepass's RFC 9068 claims,
// not simplejwt's user_id and token_type.
func TestSimpleJWTAccessTokenClaims(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	pair := e.MustObtain(t, testUser)

	var set jwkSet
	if err := json.Unmarshal(e.Get(t, "/.well-known/jwks.json", "").body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].Alg != "ES256" {
		t.Fatalf("JWKS = %+v, want one ES256 key", set.Keys)
	}
	k := set.Keys[0]
	x, errX := base64.RawURLEncoding.DecodeString(k.X)
	y, errY := base64.RawURLEncoding.DecodeString(k.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(),
		append(append([]byte{4}, x...), y...))
	if err := errors.Join(errX, errY, err); err != nil {
		t.Fatalf("JWK public key: %v", err)
	}

	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(pair.Access, claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != k.Kid {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience), jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		t.Fatalf("golang-jwt rejects the access token: %v", err)
	}

	wantHeader := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": k.Kid}
	if diff := cmp.Diff(parsed.Header, wantHeader); diff != "" {
		t.Errorf("header (-got +want):\n%s", diff)
	}
	now := float64(startTime.Unix())
	sid := e.Get(t, "/auth/me", pair.Access).String(t, "session_id")
	want := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": strconv.FormatInt(u.ID, 10),
		"sid": sid, "client_id": "gatepass", "scope": "profile email",
		"preferred_username": testUser, "iat": now, "nbf": now, "exp": now + 900,
		"jti": claims["jti"],
	}
	if diff := cmp.Diff(claims, want); diff != "" || claims["jti"] == "" {
		t.Errorf("claims (-got +want):\n%s", diff)
	}
}

// FuzzSimpleJWT throws arbitrary bodies and content types at the simplejwt
// endpoints. Whatever arrives, the answer is never a 5xx, and every error is a
// JSON object in DRF's shape: a detail, or messages by field.
func FuzzSimpleJWT(f *testing.F) {
	multipartBody, multipartType := multipartForm(f, map[string]string{
		"username": "alice", "password": "x"})
	seeds := []struct{ contentType, body string }{
		{jsonType, `{"username": "alice", "password": "correct horse battery"}`},
		{jsonType, `{"refresh": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "token": 1}`},
		{jsonType, `[{"username": null}, 1.5e3, true]`},
		{formType, "username=alice&username=bob&password=%zz&refresh=a.b.c&token=a.b.c"},
		{multipartType, multipartBody},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\n"},
		{"text/plain; charset=\"", "x"},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}

	e := MustStartSimpleJWTEnv(f)
	e.MustCreateUser(f, "alice", "")
	client := e.srv.Client()

	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, path := range []string{"/api/token/", "/api/token/refresh/",
			"/api/token/verify/", "/api/token/blacklist/"} {
			req, err := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			checkDRFAnswer(t, client, req)
		}
	})
}

// checkDRFAnswer sends req and fails on a 5xx or an answer that is not a JSON
// object of the expected shape. Requests Go's client refuses to send are skipped.
func checkDRFAnswer(t *testing.T, client *http.Client, req *http.Request) {
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 500 {
		t.Fatalf("%s answered %d", req.URL.Path, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s answered %d without a JSON object: %v", req.URL.Path,
			resp.StatusCode, err)
	}
	if resp.StatusCode < 400 {
		return
	}
	if _, ok := m["detail"].(string); ok {
		return
	}
	for k, v := range m {
		msgs, ok := v.([]any)
		if !ok || len(msgs) == 0 {
			t.Fatalf("%s answered %d with field %q not a list of messages: %v",
				req.URL.Path, resp.StatusCode, k, m)
		}
	}
}

// TestSimpleJWTExactPaths checks that the endpoints answer only their own paths:
// a path below one of them is unknown, and signs nobody in.
func TestSimpleJWTExactPaths(t *testing.T) {
	e := MustStartSimpleJWTEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	unknown := e.PostJSON(t, "/api/no-such-path/", map[string]string{})

	creds := map[string]string{"username": testUser, "password": testPassword}
	for _, path := range []string{"/api/token/extra", "/api/token/refresh/x/"} {
		res := e.PostJSON(t, path, creds)
		if res.status != http.StatusNotFound || !bytes.Equal(res.body, unknown.body) {
			t.Errorf("%s: status %d, body %s; want 404 %s", path, res.status, res.body,
				unknown.body)
		}
	}
	if n := len(e.Sessions(t, u.ID)); n != 0 {
		t.Errorf("user has %d sessions, want 0", n)
	}
}
