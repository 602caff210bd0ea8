package token_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/token"
)

func TestGenerateKey(t *testing.T) {
	for _, alg := range token.Algorithms {
		t.Run(alg, func(t *testing.T) {
			k, err := token.GenerateKey(alg, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != alg {
				t.Errorf("Algorithm = %q, want %q", k.Algorithm, alg)
			}

			if alg == token.HS256 {
				if k.Public() != nil {
					t.Errorf("Public() = %v, want nil", k.Public())
				}
				if id, err := base64URL.DecodeString(k.ID); err != nil || len(id) != 16 {
					t.Errorf("ID %q is not 16 base64url bytes", k.ID)
				}
			} else {
				want, err := token.Thumbprint(k.Public())
				if err != nil {
					t.Fatal(err)
				}
				if k.ID != want {
					t.Errorf("ID = %q, want the thumbprint %q", k.ID, want)
				}
			}

			v := mustVerifier(t, testConfig([]*token.Key{k}))
			if _, err := v.Verify(mustSign(t, k, testClaims())); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestGenerateKeyHS256UsesRand(t *testing.T) {
	random := bytes.Repeat([]byte{7}, 48)
	k, err := token.GenerateKey(token.HS256, bytes.NewReader(random))
	if err != nil {
		t.Fatal(err)
	}

	secret, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	if want := random[:32]; !bytes.Equal(secret, want) {
		t.Errorf("secret = %x, want %x", secret, want)
	}
	if want := enc(random[32:]); k.ID != want {
		t.Errorf("ID = %q, want %q", k.ID, want)
	}

	if _, err := token.GenerateKey(token.HS256, bytes.NewReader(random[:40])); err == nil {
		t.Error("GenerateKey with a short reader: err = nil, want an error")
	}
}

func TestGenerateKeyUnsupported(t *testing.T) {
	for _, alg := range []string{"", "none", "ES384", "PS256", "es256"} {
		if _, err := token.GenerateKey(alg, nil); err == nil {
			t.Errorf("GenerateKey(%q): err = nil, want an error", alg)
		}
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	for _, alg := range token.Algorithms {
		t.Run(alg, func(t *testing.T) {
			k := mustGenerateKey(t, alg)
			private, err := k.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}

			got, err := token.ParseKey(k.ID, alg, private)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Algorithm != alg {
				t.Errorf("ParseKey = (%q, %q), want (%q, %q)", got.ID, got.Algorithm, k.ID, alg)
			}
			if !publicEqual(got.Public(), k.Public()) {
				t.Error("public keys differ")
			}
			again, err := got.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, private) {
				t.Error("MarshalPrivate(ParseKey(b)) != b")
			}

			// Tokens signed by one verify with the other.
			v := mustVerifier(t, testConfig([]*token.Key{got}))
			if _, err := v.Verify(mustSign(t, k, testClaims())); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// publicEqual compares two public keys of the supported types, or two nils.
func publicEqual(a, b crypto.PublicKey) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

func TestParseKeyCopiesSecret(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 32)
	k, err := token.ParseKey("k", token.HS256, secret)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 2

	got, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 1 {
		t.Error("the key changed with the caller's slice")
	}
}

func TestParseKeyErrors(t *testing.T) {
	pkcs8 := func(priv any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256 := mustPrivate(t, mustLoadKey(t, token.ES256))
	rs256 := mustPrivate(t, mustLoadKey(t, token.RS256))
	eddsa := mustPrivate(t, mustLoadKey(t, token.EdDSA))

	tests := []struct {
		name    string
		id      string
		alg     string
		private []byte
	}{
		{name: "empty-id", id: "", alg: token.ES256, private: es256},
		{name: "id-not-utf8", id: "\xff", alg: token.ES256, private: es256},
		{name: "unsupported-algorithm", id: "k", alg: "ES384", private: es256},
		{name: "alg-none", id: "k", alg: "none", private: es256},
		{name: "hs256-short-secret", id: "k", alg: token.HS256, private: make([]byte, 31)},
		{name: "hs256-empty-secret", id: "k", alg: token.HS256, private: nil},
		{name: "es256-with-rsa-key", id: "k", alg: token.ES256, private: rs256},
		{name: "es256-with-p384-key", id: "k", alg: token.ES256, private: pkcs8(p384)},
		{name: "rs256-with-1024-bit-key", id: "k", alg: token.RS256, private: pkcs8(rsa1024)},
		{name: "rs256-with-ed25519-key", id: "k", alg: token.RS256, private: eddsa},
		{name: "eddsa-with-ecdsa-key", id: "k", alg: token.EdDSA, private: es256},
		{name: "eddsa-with-x25519-key", id: "k", alg: token.EdDSA, private: pkcs8(x25519)},
		{
			name:    "pkcs1-not-pkcs8",
			id:      "k",
			alg:     token.RS256,
			private: x509.MarshalPKCS1PrivateKey(mustRSA(t, rs256)),
		},
		{name: "garbage", id: "k", alg: token.ES256, private: []byte("not a key")},
		{name: "empty", id: "k", alg: token.ES256, private: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := token.ParseKey(tt.id, tt.alg, tt.private); err == nil {
				t.Errorf("ParseKey = %q, want an error", k.ID)
			}
		})
	}
}

func mustPrivate(tb testing.TB, k *token.Key) []byte {
	tb.Helper()
	der, err := k.MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func mustRSA(tb testing.TB, der []byte) *rsa.PrivateKey {
	tb.Helper()
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		tb.Fatal(err)
	}
	return priv.(*rsa.PrivateKey)
}

func TestThumbprint(t *testing.T) {
	// RFC 7638 section 3.1.
	n, err := base64URL.DecodeString(
		"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1" +
			"L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4" +
			"QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO" +
			"pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF" +
			"Cur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	// RFC 8037 appendix A.3.
	x, err := base64URL.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		pub  crypto.PublicKey
		want string
	}{
		{
			name: "rfc-7638-rsa",
			pub:  &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537},
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			name: "rfc-8037-ed25519",
			pub:  ed25519.PublicKey(x),
			want: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.Thumbprint(tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Thumbprint = %q, want %q", got, tt.want)
			}
		})
	}

	if _, err := token.Thumbprint([]byte("secret")); err == nil {
		t.Error("Thumbprint of a secret: err = nil, want an error")
	}
}

func TestNewSignerErrors(t *testing.T) {
	changed := *mustLoadKey(t, token.ES256)
	changed.Algorithm = token.EdDSA

	tests := []struct {
		name string
		key  *token.Key
	}{
		{name: "nil", key: nil},
		{name: "zero", key: &token.Key{}},
		{name: "no-key-material", key: &token.Key{ID: "k", Algorithm: token.HS256}},
		{name: "public-only", key: parsedPublicKeys(t, mustLoadKeys(t))[0]},
		{name: "algorithm-changed", key: &changed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.NewSigner(tt.key); err == nil {
				t.Error("NewSigner: err = nil, want an error")
			}
		})
	}
}

func TestMarshalPrivatePublicOnly(t *testing.T) {
	for _, k := range parsedPublicKeys(t, mustLoadKeys(t)) {
		if _, err := k.MarshalPrivate(); err == nil {
			t.Errorf("%s: MarshalPrivate of a public key: err = nil", k.Algorithm)
		}
	}
}

func TestSignNilClaims(t *testing.T) {
	s, err := token.NewSigner(mustLoadKey(t, token.HS256))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil); err == nil {
		t.Error("Sign(nil): err = nil, want an error")
	}
}

func TestKeyErrorsHoldNoSecret(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcde") // 31 bytes: too short
	_, err := token.ParseKey("k", token.HS256, secret)
	if err == nil {
		t.Fatal("ParseKey: err = nil")
	}
	if strings.Contains(err.Error(), string(secret)) {
		t.Errorf("error %q contains the secret", err)
	}
}
