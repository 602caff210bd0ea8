package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// The tests in this file use github.com/golang-jwt/jwt/v5 as an independent oracle:
// what this package issues, golang-jwt must accept with the published keys, and
// forgeries must fail in both.

// oracleKeys returns the keys golang-jwt verifies with, by kid: the public keys read
// from MarshalJWKS output with the standard library alone (not ParseJWKS), and the
// HS256 secret, which is never published.
func oracleKeys(tb testing.TB, keys []*token.Key) map[string]any {
	tb.Helper()
	data, err := token.MarshalJWKS(keys)
	if err != nil {
		tb.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Y, N, E, Kid string }
	}
	if err := json.Unmarshal(data, &set); err != nil {
		tb.Fatal(err)
	}

	decode := func(s string) []byte {
		b, err := base64URL.DecodeString(s)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	byKid := make(map[string]any)
	for _, j := range set.Keys {
		switch j.Kty {
		case "EC":
			point := append(append([]byte{4}, decode(j.X)...), decode(j.Y)...)
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
			if err != nil {
				tb.Fatal(err)
			}
			byKid[j.Kid] = pub
		case "RSA":
			e := new(big.Int).SetBytes(decode(j.E))
			byKid[j.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(decode(j.N)), E: int(e.Int64())}
		case "OKP":
			byKid[j.Kid] = ed25519.PublicKey(decode(j.X))
		default:
			tb.Fatalf("unexpected kty %q", j.Kty)
		}
	}

	for _, k := range keys {
		if k.Algorithm == token.HS256 {
			byKid[k.ID] = mustPrivate(tb, k)
		}
	}
	return byKid
}

// oracleVerify verifies tok with golang-jwt, configured as close to our verifier as
// it allows: every algorithm allowed, so that the key's type must stop confusion.
func oracleVerify(tok string, keys map[string]any) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if key, ok := keys[kid]; ok {
			return key, nil
		}
		return nil, errors.New("unknown kid")
	},
		jwt.WithValidMethods(token.Algorithms),
		jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience),
		jwt.WithTimeFunc(fakeClock),
		jwt.WithLeeway(testLeeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	)
	return claims, err
}

func TestOracleAcceptsIssuedTokens(t *testing.T) {
	keys := mustLoadKeys(t)
	oracle := oracleKeys(t, keys)

	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			want := testClaims()
			claims, err := oracleVerify(mustSign(t, k, want), oracle)
			if err != nil {
				t.Fatalf("golang-jwt rejects our token: %v", err)
			}

			sub, _ := claims.GetSubject()
			jti, _ := claims["jti"].(string)
			if sub != want.Subject || jti != want.ID {
				t.Errorf("golang-jwt read sub %q, jti %q, want %q, %q",
					sub, jti, want.Subject, want.ID)
			}
		})
	}
}

func TestOracleIssuedTokensVerify(t *testing.T) {
	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))
	methods := map[string]jwt.SigningMethod{
		token.ES256: jwt.SigningMethodES256,
		token.HS256: jwt.SigningMethodHS256,
		token.RS256: jwt.SigningMethodRS256,
		token.EdDSA: jwt.SigningMethodEdDSA,
	}

	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			var claims jwt.MapClaims
			if err := json.Unmarshal([]byte(claimsJSON(t, nil)), &claims); err != nil {
				t.Fatal(err)
			}
			jt := jwt.NewWithClaims(methods[k.Algorithm], claims)
			jt.Header["kid"] = k.ID
			jt.Header["typ"] = "at+jwt"

			var signKey any = mustPrivate(t, k)
			if k.Algorithm != token.HS256 {
				priv, err := x509.ParsePKCS8PrivateKey(signKey.([]byte))
				if err != nil {
					t.Fatal(err)
				}
				signKey = priv
			}
			tok, err := jt.SignedString(signKey)
			if err != nil {
				t.Fatal(err)
			}

			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("we reject golang-jwt's token: %v", err)
			}
			if diff := cmp.Diff(got, testClaims()); diff != "" {
				t.Errorf("claims (-got +want):\n%s", diff)
			}
		})
	}
}

func TestOracleRejectsForgeries(t *testing.T) {
	tests := []struct {
		name string
		algs []string // nil means every algorithm
		tok  func(f *fixture) string
	}{
		{
			name: "alg-none-unsigned",
			tok:  func(f *fixture) string { return strings.TrimSuffix(algNone("none")(f), "c2ln") },
		},
		{name: "alg-none", tok: algNone("none")},
		{
			name: "hs256-keyed-with-public-pem",
			algs: asymmetric,
			tok:  func(f *fixture) string { return f.hs256With(publicPEM(f.t, f.key)) },
		},
		{
			name: "hs256-keyed-with-jwk",
			algs: asymmetric,
			tok:  func(f *fixture) string { return f.hs256With(publicJWK(f.t, f.key)) },
		},
		{
			name: "tampered-payload",
			tok: func(f *fixture) string {
				h, _, s := f.parts()
				_, p, _ := segments(f.t, f.withClaims(with("sub", "1")))
				return h + "." + p + "." + s
			},
		},
		{
			name: "wrong-key",
			tok:  func(f *fixture) string { return mustSign(f.t, f.impostor, testClaims()) },
		},
		{
			name: "expired",
			tok:  withClaims(expiresIn(-3600)),
		},
		{
			name: "other-audience",
			tok:  withClaims(with("aud", "billing")),
		},
	}

	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))
	oracle := oracleKeys(t, keys)

	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			f := &fixture{
				t:        t,
				key:      k,
				impostor: mustImpostor(t, k),
				valid:    mustSign(t, k, testClaims()),
			}
			for _, tt := range tests {
				if tt.algs != nil && !slices.Contains(tt.algs, k.Algorithm) {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					f.t = t
					tok := tt.tok(f)
					if _, err := v.Verify(tok); gatepass.ErrorCode(err) != gatepass.EINVALIDTOKEN {
						t.Errorf("Verify: err = %v, want an invalid-token error", err)
					}
					if _, err := oracleVerify(tok, oracle); err == nil {
						t.Error("golang-jwt accepts the forgery")
					}
				})
			}
		})
	}
}
