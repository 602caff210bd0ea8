package verify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
	"github.com/google/go-cmp/cmp"
)

func TestMiddlewareValidToken(t *testing.T) {
	iss := MustStartIssuer(t)
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil))
	pair := iss.MustLogin(t, "alice", "")

	got := do(t, api, http.MethodGet, "/me", bearer(pair.AccessToken)).Identity(t)

	// The claims in the context are those the server itself reads from the token.
	claims, err := iss.svc.VerifyAccessToken(pair.AccessToken)
	if err != nil {
		t.Fatalf("the server refuses its own token: %v", err)
	}
	want := identity{
		Subject:   strconv.FormatInt(pair.UserID, 10),
		Username:  "alice",
		SessionID: pair.SessionID,
		Scopes:    []string{"profile", "email", "orders"},
		ExpiresAt: pair.AccessExpiresAt.UTC().Format(time.RFC3339),
		Claims:    claims,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("identity (-got +want):\n%s", diff)
	}
}

// TestRejections checks that every rule of the server's verifier applies through
// the middleware and through Verify, with the server's own messages.
func TestRejections(t *testing.T) {
	iss := MustStartIssuer(t)
	pair := iss.MustLogin(t, "alice", "")
	tok := pair.AccessToken
	kid := currentKeyID(t, iss)
	header, payload, sig := segments(t, tok)

	// A token the server would issue, signed by a key it never published.
	stranger, err := token.GenerateKey(token.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(stranger)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := iss.svc.VerifyAccessToken(tok)
	unknownKey, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}

	// The payload with another subject, under the original signature.
	forged := *claims
	forged.Subject = "1337"
	forgedPayload, _ := json.Marshal(forged)

	// A signature with one character changed in the middle.
	flipped := []byte(sig)
	if mid := len(flipped) / 2; flipped[mid] == 'A' {
		flipped[mid] = 'B'
	} else {
		flipped[mid] = 'A'
	}

	hs256 := `{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`
	confused := hmacToken(t, hs256, payload, publicKeyPEM(t, iss))

	tests := []struct {
		name string
		tok  string

		// issuer and audience of the verifier, when not the server's
		issuer, audience string

		// skew moves the verifier's clock away from the server's.
		skew time.Duration

		opts    []verify.Option
		wantErr *gatepass.Error
	}{
		{name: "expired", tok: tok, skew: 15*time.Minute + 31*time.Second,
			wantErr: token.ErrExpired},
		{name: "not-yet-valid", tok: tok, skew: -31 * time.Second,
			wantErr: token.ErrNotYetValid},
		{name: "wrong-issuer", tok: tok, issuer: "https://other.example.test",
			wantErr: token.ErrIssuer},
		{name: "wrong-audience", tok: tok, audience: "https://other-api.example.test",
			wantErr: token.ErrAudience},
		{name: "alg-none", tok: withHeader(t, tok, `{"alg":"none","kid":"`+kid+
			`","typ":"at+jwt"}`), wantErr: token.ErrAlgorithm},
		{name: "alg-none-unsigned", tok: b64([]byte(`{"alg":"none","typ":"at+jwt"}`)) +
			"." + payload + ".", wantErr: token.ErrMalformed},
		{name: "tampered-signature", tok: header + "." + payload + "." + string(flipped),
			wantErr: token.ErrSignature},
		{name: "tampered-payload", tok: header + "." + b64(forgedPayload) + "." + sig,
			wantErr: token.ErrSignature},
		{name: "unknown-kid", tok: unknownKey, wantErr: token.ErrUnknownKey},
		{name: "missing-kid", tok: withHeader(t, tok, `{"alg":"ES256","typ":"at+jwt"}`),
			wantErr: token.ErrUnknownKey},
		{name: "wrong-typ", tok: withHeader(t, tok, `{"alg":"ES256","kid":"`+kid+
			`","typ":"JWT"}`), wantErr: token.ErrType},
		{name: "jku-header", tok: withHeader(t, tok, `{"alg":"ES256","jku":`+
			`"https://evil.example/jwks.json","kid":"`+kid+`","typ":"at+jwt"}`),
			wantErr: token.ErrHeader},
		{name: "hs256-with-public-key", tok: confused, wantErr: token.ErrAlgorithm},
		{name: "hs256-with-public-key-hs256-allowed", tok: confused,
			opts:    []verify.Option{verify.WithAlgorithms(token.ES256, token.HS256)},
			wantErr: token.ErrAlgorithm},
		{name: "refresh-token", tok: pair.RefreshToken, wantErr: token.ErrMalformed},
		{name: "garbage", tok: "garbage", wantErr: token.ErrMalformed},
		{name: "oversized", tok: tok + strings.Repeat("A", token.MaxTokenSize),
			wantErr: token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer, audience := testIssuer, testAudience
			if tt.issuer != "" {
				issuer = tt.issuer
			}
			if tt.audience != "" {
				audience = tt.audience
			}
			now := func() time.Time { return iss.clock.Now().Add(tt.skew) }
			opts := iss.verifierOptions(nil, append(tt.opts, verify.WithTimeFunc(now))...)
			v, err := verify.New(context.Background(), issuer, audience, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			api := MustStartAPI(t, v)

			// Through the middleware.
			res := do(t, api, http.MethodGet, "/me", bearer(tt.tok))
			wantRefusal(t, res, http.StatusUnauthorized, errorBody{Error: "invalid_token",
				Description: tt.wantErr.Message})
			wantChallenge := `Bearer error="invalid_token", error_description="` +
				tt.wantErr.Message + `"`
			if got := res.header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
			}

			// Through Verify.
			claims, err := v.Verify(context.Background(), tt.tok)
			if !errors.Is(err, tt.wantErr) || claims != nil {
				t.Errorf("Verify = %v, %v; want %v", claims, err, tt.wantErr)
			}
		})
	}
}

func TestMissingToken(t *testing.T) {
	iss := MustStartIssuer(t)
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil))

	res := do(t, api, http.MethodGet, "/me", nil)

	wantRefusal(t, res, http.StatusUnauthorized, errorBody{Error: "unauthorized",
		Description: verify.ErrNoToken.Message})
	if got := res.header.Get("WWW-Authenticate"); got != "Bearer" {
		t.Errorf("WWW-Authenticate = %q, want Bearer with no error code", got)
	}
}

// TestRejectionLog checks that a refused token is logged with the reason and
// the client, and that the log holds no part of the token.
func TestRejectionLog(t *testing.T) {
	iss := MustStartIssuer(t)
	logs := &syncBuffer{}
	api := MustStartAPI(t, iss.MustNewVerifier(t, logs))
	tok := iss.MustLogin(t, "alice", "").AccessToken
	iss.clock.Advance(time.Hour)

	do(t, api, http.MethodGet, "/me", bearer(tok))

	out := logs.String()
	want := `level=DEBUG msg="access token rejected" reason="token has expired" ` +
		`client_ip=127.0.0.1`
	if !strings.Contains(out, want) {
		t.Errorf("the log lacks %q:\n%s", want, out)
	}
	_, _, sig := segments(t, tok)
	if strings.Contains(out, sig) {
		t.Errorf("the log holds the token:\n%s", out)
	}
}

func TestVerify(t *testing.T) {
	iss := MustStartIssuer(t)
	v := iss.MustNewVerifier(t, nil)
	pair := iss.MustLogin(t, "bob", "profile")

	got, err := v.Verify(context.Background(), pair.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want, _ := iss.svc.VerifyAccessToken(pair.AccessToken)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("claims (-got +want):\n%s", diff)
	}
	if got.Username != "bob" || got.Scope != "profile" {
		t.Errorf("claims name %q with scope %q, want bob with profile", got.Username,
			got.Scope)
	}
}

// TestKeySources checks the keys given in place of a JWKS URL: a JWKS file and
// static keys, both verifying what the server signs, and the HS256 secret
// shared with a server that signs with it.
func TestKeySources(t *testing.T) {
	iss := MustStartIssuer(t)
	tok := iss.MustLogin(t, "alice", "").AccessToken
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, iss.svc.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	public, err := token.ParseJWKS(iss.svc.JWKS())
	if err != nil {
		t.Fatal(err)
	}

	// A token signed with a shared secret, as a server run with --alg HS256 does.
	secret, err := token.GenerateKey(token.HS256, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := iss.svc.VerifyAccessToken(tok)
	hsSigner, _ := token.NewSigner(secret)
	hsTok, err := hsSigner.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		opt  verify.Option
		tok  string
		alg  string
	}{
		{name: "jwks-file", opt: verify.WithJWKSFile(jwksFile), tok: tok, alg: "ES256"},
		{name: "static-keys", opt: verify.WithKeys(public...), tok: tok, alg: "ES256"},
		{name: "shared-secret", opt: verify.WithKeys(secret), tok: hsTok, alg: "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := iss.fetches.Load()
			v, err := verify.New(context.Background(), testIssuer, testAudience, tt.opt,
				verify.WithTimeFunc(iss.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()

			got, err := v.Verify(context.Background(), tt.tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(got, claims); diff != "" {
				t.Errorf("claims (-got +want):\n%s", diff)
			}

			// A static key set never reaches out, even for an unknown key.
			iss.clock.Advance(time.Minute)
			unknown := withHeader(t, tt.tok, `{"alg":"`+tt.alg+`","kid":"nope","typ":"at+jwt"}`)
			if _, err := v.Verify(context.Background(), unknown); !errors.Is(err,
				token.ErrUnknownKey) {
				t.Errorf("Verify of an unknown key = %v, want ErrUnknownKey", err)
			}
			if n := iss.fetches.Load() - before; n != 0 {
				t.Errorf("%d JWKS fetches, want none", n)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	iss := MustStartIssuer(t)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwksFile, iss.svc.JWKS(), 0o600)

	tests := []struct {
		name     string
		issuer   string
		audience string
		opts     []verify.Option
		bare     bool             // opts alone, without the issuer's JWKS URL
		jwks     http.HandlerFunc // answers the JWKS requests when set
		wantErr  string
	}{
		{name: "no-issuer", audience: testAudience, wantErr: "issuer is required"},
		{name: "no-audience", issuer: testIssuer, wantErr: "audience is required"},
		{name: "two-key-sources", issuer: testIssuer, audience: testAudience,
			opts:    []verify.Option{verify.WithJWKSFile(jwksFile)},
			wantErr: "more than one key source"},
		{name: "relative-jwks-url", issuer: "id.example.test", audience: testAudience,
			opts:    []verify.Option{verify.WithJWKSURL("")},
			wantErr: "jwks url: must be an absolute http(s) URL"},
		{name: "ftp-jwks-url", issuer: testIssuer, audience: testAudience,
			opts:    []verify.Option{verify.WithJWKSURL("ftp://id.example.test/jwks")},
			wantErr: "jwks url: must be an absolute http(s) URL"},
		{name: "no-keys", issuer: testIssuer, audience: testAudience,
			opts: []verify.Option{verify.WithKeys()}, bare: true,
			wantErr: "no usable key"},
		{name: "unsupported-algorithm", issuer: testIssuer, audience: testAudience,
			opts:    []verify.Option{verify.WithAlgorithms("PS256")},
			wantErr: `unsupported algorithm "PS256"`},
		{name: "negative-leeway", issuer: testIssuer, audience: testAudience,
			opts:    []verify.Option{verify.WithLeeway(-time.Second)},
			wantErr: "leeway is negative"},
		{name: "bad-refresh-interval", issuer: testIssuer, audience: testAudience,
			opts: []verify.Option{
				verify.WithRefreshInterval(time.Hour, time.Minute)},
			wantErr: "refresh interval"},
		{name: "bad-trusted-origin", issuer: testIssuer, audience: testAudience,
			opts: []verify.Option{
				verify.WithTrustedOrigins("https://app.example.test/path")},
			wantErr: "trusted origin"},
		{name: "jwks-down", issuer: testIssuer, audience: testAudience,
			jwks:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
			wantErr: "get jwks: status 503"},
		{name: "jwks-without-keys-for-algorithm", issuer: testIssuer,
			audience: testAudience,
			opts:     []verify.Option{verify.WithAlgorithms(token.EdDSA)},
			wantErr:  "no key for the allowed algorithms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss.SetJWKS(tt.jwks)
			defer iss.SetJWKS(nil)
			opts := tt.opts
			if !tt.bare {
				opts = iss.verifierOptions(nil, tt.opts...)
			}
			v, err := verify.New(context.Background(), tt.issuer, tt.audience, opts...)
			if err == nil {
				v.Close()
				t.Fatalf("New succeeded, want an error with %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) ||
				!strings.HasPrefix(err.Error(), "verify: ") {
				t.Errorf("error = %q, want verify: ...%s...", err, tt.wantErr)
			}
		})
	}
}

// wantRefusal checks that r is a JSON refusal with status and body, marked not
// cacheable.
func wantRefusal(tb testing.TB, r *response, status int, want errorBody) {
	tb.Helper()
	if r.status != status {
		tb.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if diff := cmp.Diff(r.Error(tb), want); diff != "" {
		tb.Errorf("body (-got +want):\n%s", diff)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// currentKeyID returns the id of the server's signing key.
func currentKeyID(tb testing.TB, iss *issuer) string {
	tb.Helper()
	keys, err := iss.svc.FindKeys(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		if k.RetiredAt.IsZero() {
			return k.ID
		}
	}
	tb.Fatal("no current key")
	return ""
}

// publicKeyPEM returns the server's public key as PEM, the form an attacker
// would try as an HMAC secret.
func publicKeyPEM(tb testing.TB, iss *issuer) []byte {
	tb.Helper()
	keys, err := token.ParseJWKS(iss.svc.JWKS())
	if err != nil || len(keys) == 0 {
		tb.Fatalf("parse jwks: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Public())
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// hmacToken signs header.payload with HMAC-SHA256 under secret.
func hmacToken(tb testing.TB, header, payload string, secret []byte) string {
	tb.Helper()
	input := b64([]byte(header)) + "." + payload
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}
