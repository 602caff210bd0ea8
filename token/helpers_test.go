package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// The fixed world every test runs in.
const (
	testIssuer   = "https://auth.example.com"
	testAudience = "api"
	testLeeway   = 30 * time.Second
)

var testNow = time.Unix(1_750_000_000, 0)

// fakeClock is the Now of every test verifier.
func fakeClock() time.Time { return testNow }

var (
	base64URL = base64.RawURLEncoding
	enc       = base64URL.EncodeToString
)

// keyFiles names the fixed test key of each asymmetric algorithm in testdata.
var keyFiles = map[string]string{
	token.ES256: "testdata/es256.pem",
	token.RS256: "testdata/rs256.pem",
	token.EdDSA: "testdata/eddsa.pem",
}

// mustLoadKey returns the fixed test key for alg, with ID "test-<alg>".
func mustLoadKey(tb testing.TB, alg string) *token.Key {
	tb.Helper()

	var private []byte
	if alg == token.HS256 {
		data, err := os.ReadFile("testdata/hs256.hex")
		if err != nil {
			tb.Fatal(err)
		}
		if private, err = hex.DecodeString(strings.TrimSpace(string(data))); err != nil {
			tb.Fatal(err)
		}
	} else {
		data, err := os.ReadFile(keyFiles[alg])
		if err != nil {
			tb.Fatal(err)
		}
		block, _ := pem.Decode(data)
		if block == nil {
			tb.Fatalf("%s: no PEM block", keyFiles[alg])
		}
		private = block.Bytes
	}

	k, err := token.ParseKey("test-"+strings.ToLower(alg), alg, private)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustLoadKeys returns the fixed test keys of every algorithm, in Algorithms order.
func mustLoadKeys(tb testing.TB) []*token.Key {
	tb.Helper()
	var keys []*token.Key
	for _, alg := range token.Algorithms {
		keys = append(keys, mustLoadKey(tb, alg))
	}
	return keys
}

func mustGenerateKey(tb testing.TB, alg string) *token.Key {
	tb.Helper()
	k, err := token.GenerateKey(alg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustImpostor returns a fresh key with the same ID and algorithm as k.
func mustImpostor(tb testing.TB, k *token.Key) *token.Key {
	tb.Helper()
	private, err := mustGenerateKey(tb, k.Algorithm).MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	impostor, err := token.ParseKey(k.ID, k.Algorithm, private)
	if err != nil {
		tb.Fatal(err)
	}
	return impostor
}

// testConfig returns the configuration of the test verifier: every algorithm allowed.
func testConfig(keys []*token.Key) token.VerifierConfig {
	return token.VerifierConfig{
		Keys:       keys,
		Algorithms: token.Algorithms,
		Issuer:     testIssuer,
		Audience:   testAudience,
		Leeway:     testLeeway,
		Now:        fakeClock,
	}
}

func mustVerifier(tb testing.TB, cfg token.VerifierConfig) *token.Verifier {
	tb.Helper()
	v, err := token.NewVerifier(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// testClaims returns claims that the test verifier accepts.
func testClaims() *gatepass.Claims {
	return &gatepass.Claims{
		Issuer:    testIssuer,
		Subject:   "42",
		Audience:  gatepass.Audience{testAudience},
		ExpiresAt: testNow.Unix() + 900,
		IssuedAt:  testNow.Unix(),
		NotBefore: testNow.Unix(),
		ID:        "jti-1",
		SessionID: "sid-1",
		Scope:     "read write",
		ClientID:  "web",
		Username:  "alice",
	}
}

func mustSign(tb testing.TB, k *token.Key, c *gatepass.Claims) string {
	tb.Helper()
	s, err := token.NewSigner(k)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := s.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// claimsJSON returns testClaims as a JSON object after edit has changed its members.
func claimsJSON(tb testing.TB, edit func(m map[string]any)) string {
	tb.Helper()
	data, err := json.Marshal(testClaims())
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	if data, err = json.Marshal(m); err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// headerJSON returns the header gatepass issues.
func headerJSON(alg, kid string) string {
	return `{"alg":"` + alg + `","kid":"` + kid + `","typ":"at+jwt"}`
}

// forge returns a token with the given header and payload JSON, signed with k's
// private key by the standard library, not by the package under test.
func forge(tb testing.TB, k *token.Key, header, payload string) string {
	tb.Helper()
	return assemble(tb, k, enc([]byte(header)), enc([]byte(payload)))
}

// assemble signs already encoded header and payload segments as they are.
func assemble(tb testing.TB, k *token.Key, header, payload string) string {
	tb.Helper()
	input := header + "." + payload
	return input + "." + enc(signRaw(tb, k, []byte(input)))
}

// signRaw signs input as k's algorithm requires (RFC 7518 section 3).
func signRaw(tb testing.TB, k *token.Key, input []byte) []byte {
	tb.Helper()
	private, err := k.MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	if k.Algorithm == token.HS256 {
		return hmacSHA256(private, input)
	}

	priv, err := x509.ParsePKCS8PrivateKey(private)
	if err != nil {
		tb.Fatal(err)
	}
	digest := sha256.Sum256(input)
	switch priv := priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			tb.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input)
	}
	tb.Fatalf("unexpected key type %T", priv)
	return nil
}

func hmacSHA256(key, input []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(input)
	return mac.Sum(nil)
}

// segments splits a token that is known to have three segments.
func segments(tb testing.TB, tok string) (header, payload, sig string) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// setTrailingBit sets the lowest unused bit of the last character of seg, giving
// a non-canonical encoding that a lenient decoder reads as the same bytes.
func setTrailingBit(tb testing.TB, seg string) string {
	tb.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		tb.Fatal("segment has no unused bits")
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

// pad appends the "=" padding that RFC 7515 forbids to seg.
func pad(tb testing.TB, seg string) string {
	tb.Helper()
	if len(seg)%4 == 0 {
		tb.Fatal("segment needs no padding")
	}
	return seg + strings.Repeat("=", 4-len(seg)%4)
}
