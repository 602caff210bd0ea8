package verify_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
	"github.com/google/go-cmp/cmp"
)

const secureCookie = "__Host-" + gatepass.AccessCookieName

func TestTokenSources(t *testing.T) {
	iss := MustStartIssuer(t)
	alice := iss.MustLogin(t, "alice", "").AccessToken
	bob := iss.MustLogin(t, "bob", "").AccessToken
	cookie := func(pairs ...string) http.Header {
		var parts []string
		for i := 0; i < len(pairs); i += 2 {
			parts = append(parts, pairs[i]+"="+pairs[i+1])
		}
		return http.Header{"Cookie": {strings.Join(parts, "; ")}}
	}
	with := func(h http.Header, k, v string) http.Header {
		h.Set(k, v)
		return h
	}

	tests := []struct {
		name   string
		opts   []verify.Option
		header http.Header

		wantUser string    // the user admitted; "" for a refusal
		wantErr  errorBody // the refusal
	}{
		{name: "bearer", header: bearer(alice), wantUser: "alice"},
		{name: "bearer-scheme-lowercase",
			header: http.Header{"Authorization": {"bearer " + alice}}, wantUser: "alice"},
		{name: "bearer-scheme-uppercase",
			header: http.Header{"Authorization": {"BEARER " + alice}}, wantUser: "alice"},
		{name: "cookie", header: cookie(secureCookie, alice), wantUser: "alice"},
		{name: "cookie-among-others",
			header:   cookie("theme", "dark", secureCookie, alice, "lang", "en"),
			wantUser: "alice"},
		{name: "insecure-cookie-name",
			opts:     []verify.Option{verify.WithCookieName(gatepass.AccessCookieName)},
			header:   cookie(gatepass.AccessCookieName, alice),
			wantUser: "alice"},
		{name: "insecure-cookie-name-not-read-by-default",
			header:  cookie(gatepass.AccessCookieName, alice),
			wantErr: noToken},
		{name: "cookies-off", opts: []verify.Option{verify.WithCookieName("")},
			header: cookie(secureCookie, alice), wantErr: noToken},
		{name: "duplicate-cookie", header: cookie(secureCookie, alice, secureCookie, bob),
			wantErr: noToken},
		{name: "empty-cookie", header: cookie(secureCookie, ""), wantErr: noToken},
		{name: "bearer-wins-over-cookie",
			header:   with(cookie(secureCookie, bob), "Authorization", "Bearer "+alice),
			wantUser: "alice"},
		{name: "invalid-bearer-wins-over-cookie",
			header: with(cookie(secureCookie, bob), "Authorization", "Bearer garbage"),
			wantErr: errorBody{Error: "invalid_token",
				Description: token.ErrMalformed.Message}},
		{name: "basic-leaves-cookie-in-charge",
			header:   with(cookie(secureCookie, bob), "Authorization", "Basic YTpi"),
			wantUser: "bob"},
		{name: "empty-bearer-leaves-cookie-in-charge",
			header:   with(cookie(secureCookie, bob), "Authorization", "Bearer  "),
			wantUser: "bob"},
		{name: "basic-only", header: http.Header{"Authorization": {"Basic YTpi"}},
			wantErr: noToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := MustStartAPI(t, iss.MustNewVerifier(t, nil, tt.opts...))

			res := do(t, api, http.MethodGet, "/me", tt.header)

			if tt.wantUser != "" {
				if got := res.Identity(t).Username; got != tt.wantUser {
					t.Errorf("username = %q, want %q", got, tt.wantUser)
				}
				return
			}
			wantRefusal(t, res, http.StatusUnauthorized, tt.wantErr)
		})
	}
}

// noToken is the refusal of a request without a usable token.
var noToken = errorBody{Error: "unauthorized", Description: verify.ErrNoToken.Message}

func TestDuplicateCookieLogged(t *testing.T) {
	iss := MustStartIssuer(t)
	logs := &syncBuffer{}
	api := MustStartAPI(t, iss.MustNewVerifier(t, logs))
	tok := iss.MustLogin(t, "alice", "").AccessToken

	do(t, api, http.MethodGet, "/me", http.Header{"Cookie": {
		secureCookie + "=" + tok + "; " + secureCookie + "=Pl4nt3dV4lu3"}})

	out := logs.String()
	want := `level=WARN msg="duplicate cookie refused" reason=cookie_planted`
	if !strings.Contains(out, want) {
		t.Errorf("the log lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, tok) || strings.Contains(out, "Pl4nt3dV4lu3") {
		t.Errorf("the log holds a cookie value:\n%s", out)
	}
}

// TestCrossOrigin checks the defence against forged cookie-authenticated state
// changes, and that it stays out of the way of everything else.
func TestCrossOrigin(t *testing.T) {
	iss := MustStartIssuer(t)
	tok := iss.MustLogin(t, "alice", "orders").AccessToken
	trusted := verify.WithTrustedOrigins("https://app.example.test")
	cookie := http.Header{"Cookie": {secureCookie + "=" + tok}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}

	tests := []struct {
		name   string
		opts   []verify.Option
		method string
		path   string
		header http.Header

		// selfOrigin adds the cookie and an Origin naming the API's own address.
		selfOrigin bool

		wantForbidden bool
	}{
		{name: "cross-site-post", method: http.MethodPost, path: "/orders",
			header: with(cookie, "Sec-Fetch-Site", "cross-site"), wantForbidden: true},
		{name: "same-site-post", method: http.MethodPost, path: "/orders",
			header: with(cookie, "Sec-Fetch-Site", "same-site"), wantForbidden: true},
		{name: "foreign-origin-post", method: http.MethodPost, path: "/orders",
			header: with(cookie, "Origin", "https://evil.example"), wantForbidden: true},
		{name: "same-origin-post", method: http.MethodPost, path: "/orders",
			header: with(cookie, "Sec-Fetch-Site", "same-origin")},
		{name: "origin-matching-host", method: http.MethodPost, path: "/orders",
			selfOrigin: true},
		{name: "trusted-origin", opts: []verify.Option{trusted}, method: http.MethodPost,
			path: "/orders", header: with(cookie, "Sec-Fetch-Site", "same-site",
				"Origin", "https://app.example.test")},
		{name: "untrusted-origin-with-trust-list", opts: []verify.Option{trusted},
			method: http.MethodPost, path: "/orders",
			header: with(cookie, "Sec-Fetch-Site", "cross-site",
				"Origin", "https://evil.example"), wantForbidden: true},
		{name: "no-browser-headers", method: http.MethodPost, path: "/orders",
			header: cookie},
		{name: "cross-site-get", method: http.MethodGet, path: "/me",
			header: with(cookie, "Sec-Fetch-Site", "cross-site")},
		{name: "cross-site-post-with-bearer", method: http.MethodPost, path: "/orders",
			header: with(bearer(tok), "Sec-Fetch-Site", "cross-site",
				"Origin", "https://evil.example")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			api := MustStartAPI(t, iss.MustNewVerifier(t, logs, tt.opts...))
			header := tt.header
			if tt.selfOrigin {
				header = with(cookie, "Origin", api.URL)
			}

			res := do(t, api, tt.method, tt.path, header)

			if !tt.wantForbidden {
				if got := res.Identity(t).Username; got != "alice" {
					t.Errorf("username = %q, want alice", got)
				}
				return
			}
			wantRefusal(t, res, http.StatusForbidden, errorBody{Error: "invalid_request",
				Description: verify.ErrCrossOrigin.Message})
			want := `level=WARN msg="cross-origin request refused" reason=foreign_origin`
			if out := logs.String(); !strings.Contains(out, want) {
				t.Errorf("the log lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestCSRFToken sends cookie-authenticated requests from the API's own origin,
// so that the origin check passes, and checks what WithCSRFCookie adds.
func TestCSRFToken(t *testing.T) {
	iss := MustStartIssuer(t)
	tok := iss.MustLogin(t, "alice", "orders").AccessToken
	const csrfCookie = "__Host-" + gatepass.CSRFCookieName
	const csrf = "Zm9yZ2VyaWVzLWFyZS1ub3QtYWxsb3dlZA"
	withCSRF := []verify.Option{verify.WithCSRFCookie(csrfCookie)}
	cookies := secureCookie + "=" + tok + "; " + csrfCookie + "=" + csrf

	tests := []struct {
		name       string
		opts       []verify.Option
		method     string
		path       string // "/orders" when empty
		cookies    string
		header     http.Header
		wantReason string
	}{
		{name: "matching-token", opts: withCSRF, method: http.MethodPost, cookies: cookies,
			header: http.Header{"X-Csrf-Token": {csrf}}},
		{name: "no-header", opts: withCSRF, method: http.MethodPost, cookies: cookies,
			wantReason: "csrf_token_missing"},
		{name: "wrong-token", opts: withCSRF, method: http.MethodPost, cookies: cookies,
			header: http.Header{"X-Csrf-Token": {csrf + "x"}}, wantReason: "csrf_token_mismatch"},
		{name: "no-csrf-cookie", opts: withCSRF, method: http.MethodPost,
			cookies: secureCookie + "=" + tok, header: http.Header{"X-Csrf-Token": {csrf}},
			wantReason: "csrf_token_missing"},
		{name: "csrf-cookie-twice", opts: withCSRF, method: http.MethodPost,
			cookies: cookies + "; " + csrfCookie + "=" + csrf,
			header:  http.Header{"X-Csrf-Token": {csrf}}, wantReason: "csrf_token_missing"},
		{name: "safe-method", opts: withCSRF, method: http.MethodGet, path: "/me",
			cookies: cookies},
		{name: "bearer", opts: withCSRF, method: http.MethodPost,
			header: http.Header{"Authorization": {"Bearer " + tok}}},
		{name: "option-off", method: http.MethodPost, cookies: cookies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			api := MustStartAPI(t, iss.MustNewVerifier(t, logs, tt.opts...))
			header := tt.header.Clone()
			if header == nil {
				header = http.Header{}
			}
			header.Set("Origin", api.URL)
			if tt.cookies != "" {
				header.Set("Cookie", tt.cookies)
			}

			path := tt.path
			if path == "" {
				path = "/orders"
			}
			res := do(t, api, tt.method, path, header)

			if tt.wantReason == "" {
				if got := res.Identity(t).Username; got != "alice" {
					t.Errorf("username = %q, want alice", got)
				}
				return
			}
			wantRefusal(t, res, http.StatusForbidden, errorBody{Error: "invalid_request",
				Description: verify.ErrCSRFToken.Message})
			want := `msg="cross-origin request refused" reason=` + tt.wantReason
			if out := logs.String(); !strings.Contains(out, want) {
				t.Errorf("the log lacks %q:\n%s", want, out)
			}
			if strings.Contains(logs.String(), csrf) {
				t.Errorf("the log holds the CSRF token:\n%s", logs.String())
			}
		})
	}
}

func TestRequireScope(t *testing.T) {
	iss := MustStartIssuer(t)
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil))
	profile := iss.MustLogin(t, "alice", "profile email").AccessToken
	orders := iss.MustLogin(t, "bob", "profile orders").AccessToken

	tests := []struct {
		name   string
		method string
		path   string
		tok    string

		wantUser      string // the user admitted; "" for a refusal
		wantChallenge string
		wantScope     string
	}{
		{name: "all-granted", method: http.MethodPost, path: "/orders", tok: orders,
			wantUser: "bob"},
		{name: "all-missing", method: http.MethodPost, path: "/orders", tok: profile,
			wantChallenge: `Bearer error="insufficient_scope", error_description=` +
				`"the access token lacks a required scope", scope="orders"`,
			wantScope: "orders"},
		{name: "any-granted", method: http.MethodGet, path: "/reports", tok: orders,
			wantUser: "bob"},
		{name: "any-missing", method: http.MethodGet, path: "/reports", tok: profile,
			wantChallenge: `Bearer error="insufficient_scope", error_description=` +
				`"the access token lacks a required scope", scope="orders admin"`,
			wantScope: "orders admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, api, tt.method, tt.path, bearer(tt.tok))

			if tt.wantUser != "" {
				if got := res.Identity(t).Username; got != tt.wantUser {
					t.Errorf("username = %q, want %q", got, tt.wantUser)
				}
				return
			}
			wantRefusal(t, res, http.StatusForbidden, errorBody{Error: "insufficient_scope",
				Description: "the access token lacks a required scope",
				Scope:       tt.wantScope})
			if got := res.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
		})
	}
}

// TestRequireScopeAlone checks that a scope check without the middleware in
// front of it admits nobody.
func TestRequireScopeAlone(t *testing.T) {
	iss := MustStartIssuer(t)
	tok := iss.MustLogin(t, "alice", "orders").AccessToken
	mux := http.NewServeMux()
	mux.Handle("POST /orders", verify.RequireScope("orders")(echoIdentity))
	api := httptest.NewServer(mux)
	defer api.Close()

	res := do(t, api, http.MethodPost, "/orders", bearer(tok))

	wantRefusal(t, res, http.StatusUnauthorized, noToken)
}

func TestRequireScopePanics(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
	}{
		{name: "none"},
		{name: "empty", scopes: []string{""}},
		{name: "space", scopes: []string{"orders admin"}},
		{name: "quote", scopes: []string{`orders"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("RequireScope(%q) did not panic", tt.scopes)
				}
			}()
			verify.RequireScope(tt.scopes...)
		})
	}
}

func TestErrorHandler(t *testing.T) {
	iss := MustStartIssuer(t)
	tok := iss.MustLogin(t, "alice", "").AccessToken
	profile := iss.MustLogin(t, "alice", "profile email").AccessToken
	type refusal struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	handler := func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		json.NewEncoder(w).Encode(refusal{Code: gatepass.ErrorCode(err),
			Message: gatepass.ErrorMessage(err)})
	}
	var mu sync.Mutex
	var seen []error
	record := func(w http.ResponseWriter, r *http.Request, err error) {
		mu.Lock()
		seen = append(seen, err)
		mu.Unlock()
		handler(w, r, err)
	}
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil, verify.WithErrorHandler(record)))

	tests := []struct {
		name    string
		method  string
		path    string
		header  http.Header
		wantErr error

		// wantScope is the refusal's InsufficientScopeError, if it is one.
		wantScope *verify.InsufficientScopeError
	}{
		{name: "no-token", method: http.MethodGet, wantErr: verify.ErrNoToken},
		{name: "lacks-scope", method: http.MethodPost, header: bearer(profile),
			wantErr:   verify.ErrInsufficientScope,
			wantScope: &verify.InsufficientScopeError{Scopes: []string{"orders"}, All: true}},
		{name: "lacks-any-scope", method: http.MethodGet, path: "/reports",
			header: bearer(profile), wantErr: verify.ErrInsufficientScope,
			wantScope: &verify.InsufficientScopeError{Scopes: []string{"orders", "admin"}}},
		{name: "garbage", method: http.MethodGet, header: bearer("garbage"),
			wantErr: token.ErrMalformed},
		{name: "cross-origin", method: http.MethodPost, header: http.Header{
			"Cookie": {secureCookie + "=" + tok}, "Sec-Fetch-Site": {"cross-site"}},
			wantErr: verify.ErrCrossOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			path := "/me"
			if tt.method == http.MethodPost {
				path = "/orders"
			}
			if tt.path != "" {
				path = tt.path
			}

			res := do(t, api, tt.method, path, tt.header)

			var got refusal
			json.Unmarshal(res.body, &got)
			want := refusal{Code: gatepass.ErrorCode(tt.wantErr),
				Message: gatepass.ErrorMessage(tt.wantErr)}
			if res.status != http.StatusTeapot {
				t.Errorf("status = %d, want 418", res.status)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || !errors.Is(seen[0], tt.wantErr) {
				t.Fatalf("handler saw %v, want %v", seen, tt.wantErr)
			}
			var scopeErr *verify.InsufficientScopeError
			if errors.As(seen[0], &scopeErr) || tt.wantScope != nil {
				if diff := cmp.Diff(scopeErr, tt.wantScope); diff != "" {
					t.Errorf("scope error (-got +want):\n%s", diff)
				}
			}
		})
	}
}
