package verify_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
)

// TestKeyRotation rotates the server's key under a running verifier: the first
// token of the new key makes the verifier fetch the JWK Set again, once the
// refetch limit allows, and tokens of the old key keep working while the server
// publishes it.
func TestKeyRotation(t *testing.T) {
	iss := MustStartIssuer(t)
	logs := &syncBuffer{}
	api := MustStartAPI(t, iss.MustNewVerifier(t, logs))
	oldKey := currentKeyID(t, iss)
	oldTok := iss.MustLogin(t, "alice", "").AccessToken

	newKey := iss.MustRotate(t)
	newTok := iss.MustLogin(t, "bob", "").AccessToken

	// Within the refetch limit of the first fetch, the new key stays unknown.
	res := do(t, api, http.MethodGet, "/me", bearer(newTok))
	wantRefusal(t, res, http.StatusUnauthorized, errorBody{Error: "invalid_token",
		Description: token.ErrUnknownKey.Message})
	if got := iss.fetches.Load(); got != 1 {
		t.Errorf("%d JWKS fetches, want 1 (the refetch limit was ignored)", got)
	}

	// After it, the new key is fetched and the token passes.
	iss.clock.Advance(refetchLimit)
	got := do(t, api, http.MethodGet, "/me", bearer(newTok)).Identity(t)
	if got.Username != "bob" {
		t.Errorf("username = %q, want bob", got.Username)
	}
	if got := iss.fetches.Load(); got != 2 {
		t.Errorf("%d JWKS fetches, want 2", got)
	}

	// The old key is still published, so its tokens pass without another fetch.
	got = do(t, api, http.MethodGet, "/me", bearer(oldTok)).Identity(t)
	if got.Username != "alice" {
		t.Errorf("username = %q, want alice", got.Username)
	}
	if got := iss.fetches.Load(); got != 2 {
		t.Errorf("%d JWKS fetches, want 2", got)
	}

	ids := []string{oldKey, newKey}
	if newKey < oldKey {
		ids = []string{newKey, oldKey}
	}
	want := `level=INFO msg="jwks keys loaded" jwks_url=` + iss.jwksURL +
		` key_ids="[` + ids[0] + " " + ids[1] + `]"`
	if out := logs.String(); !strings.Contains(out, want) {
		t.Errorf("the log lacks %q:\n%s", want, out)
	}
}

// TestUnknownKeyStorm sends many concurrent tokens with random key ids: they all
// share one fetch of the JWK Set, and later ones within the refetch limit
// cause none.
func TestUnknownKeyStorm(t *testing.T) {
	iss := MustStartIssuer(t)
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil))
	tok := iss.MustLogin(t, "alice", "").AccessToken
	iss.clock.Advance(refetchLimit)

	const requests = 200
	var wg sync.WaitGroup
	results := make([]*response, requests)
	for i := range requests {
		wg.Go(func() {
			header := `{"alg":"ES256","kid":"` + rand.Text() + `","typ":"at+jwt"}`
			results[i] = do(t, api, http.MethodGet, "/me", bearer(withHeader(t, tok, header)))
		})
	}
	wg.Wait()

	for i, res := range results {
		if res.status != http.StatusUnauthorized ||
			!strings.Contains(string(res.body), token.ErrUnknownKey.Message) {
			t.Errorf("request %d: status %d, body %s", i, res.status, res.body)
		}
	}
	if got := iss.fetches.Load(); got != 2 {
		t.Errorf("%d JWKS fetches, want 2: the first and one for the storm", got)
	}
}

// TestBackgroundRefresh checks that a key rotated on the server reaches the
// verifier with no token asking for it. The clock never moves, so the refetch
// limit refuses every fetch a token could cause: only the background refresh
// can fetch.
func TestBackgroundRefresh(t *testing.T) {
	iss := MustStartIssuer(t)
	v := iss.MustNewVerifier(t, nil,
		verify.WithRefreshInterval(20*time.Millisecond, 20*time.Millisecond))
	iss.MustRotate(t)
	tok := iss.MustLogin(t, "alice", "").AccessToken

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, err := v.Verify(ctx, tok)
		if err == nil {
			break
		} else if !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("Verify: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("the new key never arrived")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if got := iss.fetches.Load(); got < 2 {
		t.Errorf("%d JWKS fetches, want the first and at least one refresh", got)
	}

	// Close stops the refresh: no fetch follows it.
	v.Close()
	after := iss.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if got := iss.fetches.Load(); got != after {
		t.Errorf("%d JWKS fetches after Close", got-after)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Errorf("Verify after Close: %v", err)
	}
}

// TestFetchFailureKeepsKeys makes every later fetch of the JWK Set fail in a
// different way: the keys already loaded keep verifying, and the failure is
// logged.
func TestFetchFailureKeepsKeys(t *testing.T) {
	tests := []struct {
		name    string
		jwks    http.HandlerFunc
		wantLog string

		// retried means the HTTP client may try again on a fresh connection,
		// as it does for a GET cut on a reused one.
		retried bool
	}{
		{name: "server-down", jwks: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, wantLog: "get jwks: status 503"},
		{name: "garbage", jwks: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>maintenance</html>"))
		}, wantLog: "parse jwks"},
		{name: "too-large", jwks: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`))
		}, wantLog: "read jwks: larger than 1048576 bytes"},
		{name: "no-keys", jwks: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[]}`))
		}, wantLog: "jwks: no usable key"},
		{name: "connection-cut", jwks: func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, wantLog: "get jwks: Get", retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := MustStartIssuer(t)
			logs := &syncBuffer{}
			api := MustStartAPI(t, iss.MustNewVerifier(t, logs))
			tok := iss.MustLogin(t, "alice", "").AccessToken
			iss.SetJWKS(tt.jwks)

			// A token of an unknown key causes a fetch, which fails.
			iss.clock.Advance(refetchLimit)
			unknown := withHeader(t, tok, `{"alg":"ES256","kid":"nope","typ":"at+jwt"}`)
			res := do(t, api, http.MethodGet, "/me", bearer(unknown))
			if res.status != http.StatusUnauthorized {
				t.Errorf("unknown key: status %d, want 401", res.status)
			}
			if got := iss.fetches.Load(); got != 2 && !(tt.retried && got == 3) {
				t.Errorf("%d JWKS fetches, want 2", got)
			}

			// The keys loaded before still verify.
			got := do(t, api, http.MethodGet, "/me", bearer(tok)).Identity(t)
			if got.Username != "alice" {
				t.Errorf("username = %q, want alice", got.Username)
			}
			want := `level=WARN msg="jwks fetch failed" jwks_url=` + iss.jwksURL
			if out := logs.String(); !strings.Contains(out, want) ||
				!strings.Contains(out, tt.wantLog) {
				t.Errorf("the log lacks %q with %q:\n%s", want, tt.wantLog, out)
			}
		})
	}
}

// TestAlgorithmChange rotates the server to a key of another algorithm. By
// default the verifier accepts the algorithms of the keys it loads, so it
// fetches the new key and accepts it; with the algorithms restricted, it
// neither fetches nor accepts.
func TestAlgorithmChange(t *testing.T) {
	tests := []struct {
		name        string
		opts        []verify.Option
		wantFetches int64
		wantErr     *gatepass.Error // nil for success
	}{
		{name: "default-algorithms", wantFetches: 2},
		{name: "restricted-algorithms",
			opts:        []verify.Option{verify.WithAlgorithms(token.ES256)},
			wantFetches: 1, wantErr: token.ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := MustStartIssuer(t)
			v := iss.MustNewVerifier(t, nil, tt.opts...)
			if _, err := iss.svc.RotateKeys(context.Background(), token.EdDSA); err != nil {
				t.Fatal(err)
			}
			tok := iss.MustLogin(t, "alice", "").AccessToken
			iss.clock.Advance(refetchLimit)

			claims, err := v.Verify(context.Background(), tok)

			if tt.wantErr == nil && (err != nil || claims.Username != "alice") {
				t.Errorf("Verify = %v, %v; want alice's claims", claims, err)
			} else if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if got := iss.fetches.Load(); got != tt.wantFetches {
				t.Errorf("%d JWKS fetches, want %d", got, tt.wantFetches)
			}
		})
	}
}

// TestKeyRotationFile is TestKeyRotation with the keys in a JWK Set file: once
// the file holds the rotated key, the first token of that key makes the
// verifier read the file again, within the same refetch limit, and a file that
// turns unreadable keeps the keys in use.
func TestKeyRotationFile(t *testing.T) {
	iss := MustStartIssuer(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, iss.svc.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	v, err := verify.New(t.Context(), testIssuer, testAudience, verify.WithJWKSFile(path),
		verify.WithTimeFunc(iss.clock.Now), verify.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	api := MustStartAPI(t, v)

	iss.MustRotate(t)
	newTok := iss.MustLogin(t, "bob", "").AccessToken
	if err := os.WriteFile(path, iss.svc.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}

	// Within the refetch limit of the first read, the new key stays unknown.
	res := do(t, api, http.MethodGet, "/me", bearer(newTok))
	wantRefusal(t, res, http.StatusUnauthorized, errorBody{Error: "invalid_token",
		Description: token.ErrUnknownKey.Message})

	// After it, the file is read again and the token passes.
	iss.clock.Advance(refetchLimit)
	got := do(t, api, http.MethodGet, "/me", bearer(newTok)).Identity(t)
	if got.Username != "bob" {
		t.Errorf("username = %q, want bob", got.Username)
	}
	if want := "jwks_file=" + path; !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not name the file (%s):\n%s", want, logs.String())
	}

	// A broken file is refused, and the keys read before stay in use.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	iss.clock.Advance(refetchLimit)
	unknown := withHeader(t, newTok, `{"alg":"ES256","kid":"`+rand.Text()+`","typ":"at+jwt"}`)
	garbage := do(t, api, http.MethodGet, "/me", bearer(unknown))
	wantRefusal(t, garbage, http.StatusUnauthorized, errorBody{Error: "invalid_token",
		Description: token.ErrUnknownKey.Message})
	got = do(t, api, http.MethodGet, "/me", bearer(newTok)).Identity(t)
	if got.Username != "bob" {
		t.Errorf("after a broken file: username = %q, want bob", got.Username)
	}
	if !strings.Contains(logs.String(), `msg="jwks fetch failed" jwks_file=`) {
		t.Errorf("the failed read is not logged:\n%s", logs.String())
	}
}
