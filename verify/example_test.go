package verify_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
)

// A service protects its API with the keys gatepass publishes at
// https://id.example.com/.well-known/jwks.json.
func Example() {
	ctx := context.Background()
	v, err := verify.New(ctx, "https://id.example.com", "https://api.example.com")
	if err != nil {
		log.Fatal(err) // the issuer's JWKS could not be loaded
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /me", v.Middleware(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello %s\n", verify.Username(r.Context()))
		})))
	mux.Handle("POST /orders", v.Middleware(verify.RequireScope("orders")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "order placed for user %s\n", verify.Subject(r.Context()))
		}))))
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", mux))
}

func ExampleVerifier_Middleware() {
	// A key and a token such as gatepass issues; a service would fetch the public
	// key from the issuer's JWKS instead.
	key, _ := token.GenerateKey(token.ES256, nil)
	signer, _ := token.NewSigner(key)
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, _ := signer.Sign(&gatepass.Claims{
		Issuer: "https://id.example.com", Audience: gatepass.Audience{"https://api.example.com"},
		Subject: "42", Username: "alice", Scope: "profile email", ID: "x1", SessionID: "s1",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), ExpiresAt: now.Add(15 * time.Minute).Unix(),
	})

	v, err := verify.New(context.Background(), "https://id.example.com",
		"https://api.example.com", verify.WithKeys(key),
		verify.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		log.Fatal(err)
	}
	me := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s (user %s) may %v until %s", verify.Username(r.Context()),
			verify.Subject(r.Context()), verify.Scopes(r.Context()),
			verify.ExpiresAt(r.Context()).UTC().Format(time.Kitchen))
	}))
	orders := v.Middleware(verify.RequireScope("orders")(me))

	for _, h := range []http.Handler{me, orders} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 alice (user 42) may [profile email] until 3:19AM
	// 403 {"error":"insufficient_scope","error_description":"the access token lacks a required scope","scope":"orders"}
}

// Tokens that arrive by other means than an HTTP request, such as the first
// message on a WebSocket, are checked with Verify.
func ExampleVerifier_Verify() {
	key, _ := token.GenerateKey(token.EdDSA, nil)
	signer, _ := token.NewSigner(key)
	now := time.Now()
	tok, _ := signer.Sign(&gatepass.Claims{
		Issuer: "https://id.example.com", Audience: gatepass.Audience{"https://api.example.com"},
		Subject: "42", ID: "x1", IssuedAt: now.Unix(), NotBefore: now.Unix(),
		ExpiresAt: now.Add(-time.Minute).Unix(),
	})

	v, err := verify.New(context.Background(), "https://id.example.com",
		"https://api.example.com", verify.WithKeys(key), verify.WithLeeway(0))
	if err != nil {
		log.Fatal(err)
	}
	_, err = v.Verify(context.Background(), tok)
	fmt.Println(err != nil, gatepass.ErrorMessage(err))
	// Output:
	// true token has expired
}
