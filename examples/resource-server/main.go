// Command resource-server is a small API that trusts the access tokens of a
// gatepass server, through the verify package. It is an example to read and
// run next to "gatepass serve --demo"; see README.md.
//
// Routes:
//
//	GET  /api/status      public
//	GET  /api/me          any valid access token: who is calling
//	POST /api/newsletter  a token with the "email" scope
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "resource-server:", err)
		}
		stop()
		os.Exit(1)
	}
}

// run parses the flags, loads the issuer's keys and serves the API until ctx
// ends.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("resource-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	issuer := fs.String("issuer", "http://127.0.0.1:8080",
		"the gatepass server's --issuer, which tokens must name")
	audience := fs.String("audience", "", "the gatepass server's --audience "+
		"(default: the issuer)")
	jwksURL := fs.String("jwks-url", "", "where the signing keys are published "+
		"(default: ISSUER/.well-known/jwks.json)")
	insecureCookies := fs.Bool("insecure-cookies", false, "read the access cookie "+
		"of a gatepass server run with --insecure-cookies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *audience == "" {
		*audience = *issuer
	}

	// Load the keys: New fails if the issuer's JWKS cannot be fetched.
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := []verify.Option{verify.WithLogger(logger)}
	if *jwksURL != "" {
		opts = append(opts, verify.WithJWKSURL(*jwksURL))
	}
	if *insecureCookies {
		opts = append(opts, verify.WithCookieName(gatepass.AccessCookieName))
	}
	v, err := verify.New(ctx, *issuer, *audience, opts...)
	if err != nil {
		return err
	}
	defer v.Close()

	// Serve until ctx ends, then give requests in flight a moment to finish.
	srv := &http.Server{Addr: *addr, Handler: newHandler(v),
		ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", *addr, "issuer", *issuer)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// newHandler returns the API's routes, protected by v.
func newHandler(v *verify.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/status", handleStatus)
	mux.Handle("GET /api/me", v.Middleware(http.HandlerFunc(handleMe)))
	mux.Handle("POST /api/newsletter",
		v.Middleware(verify.RequireScope("email")(http.HandlerFunc(handleNewsletter))))
	return mux
}

// handleStatus answers anyone.
func handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// me describes the caller, as the access token names them.
type me struct {
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	SessionID string    `json:"session_id"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// handleMe tells the caller who they are. No database is asked: the verified
// token says it all.
func handleMe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	writeJSON(w, me{
		UserID:    verify.Subject(ctx),
		Username:  verify.Username(ctx),
		SessionID: verify.SessionID(ctx),
		Scopes:    verify.Scopes(ctx),
		ExpiresAt: verify.ExpiresAt(ctx).UTC(),
	})
}

// handleNewsletter stands for a state change that needs a scope. A real one
// would store the subscription under verify.Subject.
func handleNewsletter(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"subscribed": true, "username": verify.Username(r.Context())})
}

// writeJSON answers 200 with v. Answers about a user are private to them.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}
