package token_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

func TestSignVerify(t *testing.T) {
	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))

	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			want := testClaims()
			tok := mustSign(t, k, want)

			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("claims (-got +want):\n%s", diff)
			}

			header, _, _ := segments(t, tok)
			gotHeader := mustDecode(t, header)
			if wantHeader := headerJSON(k.Algorithm, k.ID); gotHeader != wantHeader {
				t.Errorf("header = %s, want %s", gotHeader, wantHeader)
			}
		})
	}
}

func mustDecode(tb testing.TB, seg string) string {
	tb.Helper()
	data, err := base64URL.DecodeString(seg)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// fixture is what a rejection case builds its token from.
type fixture struct {
	t        *testing.T
	key      *token.Key            // the test key of the algorithm under test
	impostor *token.Key            // a different key with the same ID and algorithm
	keys     map[string]*token.Key // the test key of each algorithm
	valid    string                // a valid token signed by key
}

// header returns the header gatepass issues with the key under test.
func (f *fixture) header() string {
	return headerJSON(f.key.Algorithm, f.key.ID)
}

// withHeader returns a token with valid claims under header, signed by the key.
func (f *fixture) withHeader(header string) string {
	return forge(f.t, f.key, header, claimsJSON(f.t, nil))
}

// withParam returns a token whose header has one more member.
func (f *fixture) withParam(member string) string {
	return f.withHeader(strings.TrimSuffix(f.header(), "}") + "," + member + "}")
}

// withClaims returns a token with the claims changed by edit, signed by the key.
func (f *fixture) withClaims(edit func(m map[string]any)) string {
	return forge(f.t, f.key, f.header(), claimsJSON(f.t, edit))
}

// withPayload returns a token with the given payload, signed by the key.
func (f *fixture) withPayload(payload string) string {
	return forge(f.t, f.key, f.header(), payload)
}

// withSignature returns the valid token with its signature bytes changed by edit.
func (f *fixture) withSignature(edit func(sig []byte) []byte) string {
	header, payload, sig := segments(f.t, f.valid)
	return header + "." + payload + "." + enc(edit([]byte(mustDecode(f.t, sig))))
}

// hs256With returns an HS256 token for the key's kid, keyed with secret.
func (f *fixture) hs256With(secret []byte) string {
	header := enc([]byte(headerJSON(token.HS256, f.key.ID)))
	payload := enc([]byte(claimsJSON(f.t, nil)))
	input := header + "." + payload
	return input + "." + enc(hmacSHA256(secret, []byte(input)))
}

func (f *fixture) parts() (header, payload, sig string) {
	return segments(f.t, f.valid)
}

// otherAlgorithm returns an allowed algorithm other than alg.
func otherAlgorithm(alg string) string {
	if alg == token.ES256 {
		return token.RS256
	}
	return token.ES256
}

var asymmetric = []string{token.ES256, token.RS256, token.EdDSA}

// Edits of a JSON object's members, for claims and JWKs.
func with(name string, value any) func(m map[string]any) {
	return func(m map[string]any) { m[name] = value }
}

func without(name string) func(m map[string]any) {
	return func(m map[string]any) { delete(m, name) }
}

// expiresIn sets exp relative to the test clock; a fraction makes it non-integer.
func expiresIn(seconds float64) func(m map[string]any) {
	return with("exp", float64(testNow.Unix())+seconds)
}

// typMember is the "typ" member gatepass issues.
const typMember = `"typ":"at+jwt"`

// object returns a JSON object of the given members, in order.
func object(members ...string) string {
	return "{" + strings.Join(members, ",") + "}"
}

func (f *fixture) algMember() string { return `"alg":"` + f.key.Algorithm + `"` }
func (f *fixture) kidMember() string { return `"kid":"` + f.key.ID + `"` }

func TestVerifyRejects(t *testing.T) {
	tests := []struct {
		name string
		algs []string // nil means every algorithm
		tok  func(f *fixture) string
		want error
	}{
		// Structure and encoding.
		{name: "empty", tok: func(f *fixture) string { return "" }, want: token.ErrMalformed},
		{
			name: "one-segment",
			tok:  func(f *fixture) string { h, _, _ := f.parts(); return h },
			want: token.ErrMalformed,
		},
		{
			name: "two-segments",
			tok:  func(f *fixture) string { h, p, _ := f.parts(); return h + "." + p },
			want: token.ErrMalformed,
		},
		{
			name: "four-segments",
			tok:  func(f *fixture) string { return f.valid + ".e30" },
			want: token.ErrMalformed,
		},
		{
			name: "empty-header",
			tok:  func(f *fixture) string { _, p, s := f.parts(); return "." + p + "." + s },
			want: token.ErrMalformed,
		},
		{
			name: "empty-payload",
			tok:  func(f *fixture) string { h, _, s := f.parts(); return h + ".." + s },
			want: token.ErrMalformed,
		},
		{
			name: "empty-signature",
			tok:  func(f *fixture) string { h, p, _ := f.parts(); return h + "." + p + "." },
			want: token.ErrMalformed,
		},
		{
			name: "padded-signature",
			tok:  func(f *fixture) string { return f.valid + "==" },
			want: token.ErrMalformed,
		},
		{
			name: "padded-payload",
			tok: func(f *fixture) string {
				h, _, _ := f.parts()
				return assemble(f.t, f.key, h, pad(f.t, enc([]byte(unevenClaims(f.t)))))
			},
			want: token.ErrMalformed,
		},
		{
			name: "padded-header",
			tok: func(f *fixture) string {
				h, p, _ := f.parts()
				return assemble(f.t, f.key, pad(f.t, h), p)
			},
			want: token.ErrMalformed,
		},
		{
			name: "standard-alphabet",
			tok: func(f *fixture) string {
				h, p, s := f.parts()
				return h + "." + p + "." + "+/" + s[2:]
			},
			want: token.ErrMalformed,
		},
		{
			name: "newline-in-signature",
			tok: func(f *fixture) string {
				h, p, s := f.parts()
				return h + "." + p + "." + s[:8] + "\n" + s[8:]
			},
			want: token.ErrMalformed,
		},
		{
			name: "space-in-payload",
			tok: func(f *fixture) string {
				h, p, _ := f.parts()
				return assemble(f.t, f.key, h, p[:8]+" "+p[8:])
			},
			want: token.ErrMalformed,
		},
		{
			name: "trailing-whitespace",
			tok:  func(f *fixture) string { return f.valid + "\r\n" },
			want: token.ErrMalformed,
		},
		{
			name: "trailing-bits-in-signature",
			tok: func(f *fixture) string {
				h, p, s := f.parts()
				return h + "." + p + "." + setTrailingBit(f.t, s)
			},
			want: token.ErrMalformed,
		},
		{
			name: "trailing-bits-in-payload",
			tok: func(f *fixture) string {
				h, _, _ := f.parts()
				payload := setTrailingBit(f.t, enc([]byte(unevenClaims(f.t))))
				return assemble(f.t, f.key, h, payload)
			},
			want: token.ErrMalformed,
		},
		{name: "payload-not-json", tok: withPayload("not json"), want: token.ErrMalformed},
		{
			name: "payload-trailing-data",
			tok:  func(f *fixture) string { return f.withPayload(claimsJSON(f.t, nil) + "{}") },
			want: token.ErrMalformed,
		},
		{name: "header-not-json", tok: withHeader(`{"alg":`), want: token.ErrMalformed},
		{name: "header-not-object", tok: withHeader(`["ES256"]`), want: token.ErrMalformed},
		{name: "header-null", tok: withHeader(`null`), want: token.ErrMalformed},
		{
			name: "too-large",
			tok:  withClaims(with("scope", strings.Repeat("s ", token.MaxTokenSize/2))),
			want: token.ErrMalformed,
		},

		// Algorithm: from configuration and key, never from the token (RFC 8725 section 3.1).
		{
			name: "alg-none-unsigned",
			tok:  func(f *fixture) string { return strings.TrimSuffix(algNone("none")(f), "c2ln") },
			want: token.ErrMalformed,
		},
		{name: "alg-none", tok: algNone("none"), want: token.ErrAlgorithm},
		{name: "alg-none-capitalized", tok: algNone("None"), want: token.ErrAlgorithm},
		{name: "alg-none-upper-case", tok: algNone("NONE"), want: token.ErrAlgorithm},
		{name: "alg-none-mixed-case", tok: algNone("nOnE"), want: token.ErrAlgorithm},
		{
			name: "alg-lower-case",
			tok: func(f *fixture) string {
				return f.withHeader(headerJSON(strings.ToLower(f.key.Algorithm), f.key.ID))
			},
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-unsupported",
			tok:  func(f *fixture) string { return f.withHeader(headerJSON("PS256", f.key.ID)) },
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-missing",
			tok:  func(f *fixture) string { return f.withHeader(object(f.kidMember(), typMember)) },
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-not-string",
			tok: func(f *fixture) string {
				alg := `"alg":["` + f.key.Algorithm + `"]`
				return f.withHeader(object(alg, f.kidMember(), typMember))
			},
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-of-another-key",
			tok: func(f *fixture) string {
				alg := otherAlgorithm(f.key.Algorithm)
				return forge(f.t, f.keys[alg], headerJSON(alg, f.key.ID), claimsJSON(f.t, nil))
			},
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-confusion-hs256-keyed-with-public-pem",
			algs: asymmetric,
			tok:  func(f *fixture) string { return f.hs256With(publicPEM(f.t, f.key)) },
			want: token.ErrAlgorithm,
		},
		{
			name: "alg-confusion-hs256-keyed-with-jwk",
			algs: asymmetric,
			tok:  func(f *fixture) string { return f.hs256With(publicJWK(f.t, f.key)) },
			want: token.ErrAlgorithm,
		},

		// Key ID.
		{
			name: "kid-missing",
			tok:  func(f *fixture) string { return f.withHeader(object(f.algMember(), typMember)) },
			want: token.ErrUnknownKey,
		},
		{name: "kid-unknown", tok: withKid("nope"), want: token.ErrUnknownKey},
		{name: "kid-empty", tok: withKid(""), want: token.ErrUnknownKey},
		{name: "kid-other-case", tok: withKid("TEST-ES256"), want: token.ErrUnknownKey},
		{
			name: "kid-not-string",
			tok: func(f *fixture) string {
				return f.withHeader(object(f.algMember(), `"kid":1`, typMember))
			},
			want: token.ErrUnknownKey,
		},

		// Type (RFC 9068 section 4; RFC 8725 section 3.11).
		{
			name: "typ-missing",
			tok: func(f *fixture) string {
				return f.withHeader(object(f.algMember(), f.kidMember()))
			},
			want: token.ErrType,
		},
		{name: "typ-jwt", tok: withType(`"JWT"`), want: token.ErrType},
		{name: "typ-empty", tok: withType(`""`), want: token.ErrType},
		{name: "typ-application-jwt", tok: withType(`"application/jwt"`), want: token.ErrType},
		{name: "typ-not-string", tok: withType(`["at+jwt"]`), want: token.ErrType},
		// These types are valid per RFC 9068, but gatepass never issues them.
		{name: "typ-upper-case", tok: withType(`"AT+JWT"`), want: token.ErrHeader},
		{name: "typ-media-type", tok: withType(`"application/at+jwt"`), want: token.ErrHeader},

		// Header parameters gatepass does not issue.
		{name: "header-crit", tok: withParam(`"crit":["exp"]`), want: token.ErrHeader},
		{name: "header-jku", tok: withParam(`"jku":"https://x.example/k"`), want: token.ErrHeader},
		{name: "header-x5u", tok: withParam(`"x5u":"https://x.example/c"`), want: token.ErrHeader},
		{name: "header-x5c", tok: withParam(`"x5c":["MIIB"]`), want: token.ErrHeader},
		{name: "header-x5t", tok: withParam(`"x5t":"AAAA"`), want: token.ErrHeader},
		{name: "header-jwk", tok: withParam(`"jwk":{"kty":"oct"}`), want: token.ErrHeader},
		{name: "header-b64", tok: withParam(`"b64":false`), want: token.ErrHeader},
		{name: "header-zip", tok: withParam(`"zip":"DEF"`), want: token.ErrHeader},
		{name: "header-cty", tok: withParam(`"cty":"JWT"`), want: token.ErrHeader},
		{name: "header-unknown", tok: withParam(`"foo":"bar"`), want: token.ErrHeader},
		{
			name: "header-reordered",
			tok: func(f *fixture) string {
				return f.withHeader(object(typMember, f.algMember(), f.kidMember()))
			},
			want: token.ErrHeader,
		},
		{
			name: "header-spaces",
			tok: func(f *fixture) string {
				return f.withHeader(strings.ReplaceAll(f.header(), `":"`, `": "`))
			},
			want: token.ErrHeader,
		},
		{
			name: "header-escaped",
			tok: func(f *fixture) string {
				return f.withHeader(strings.Replace(f.header(), `"typ"`, `"\u0074yp"`, 1))
			},
			want: token.ErrHeader,
		},
		{
			name: "header-duplicate-alg",
			tok: func(f *fixture) string {
				return f.withHeader(`{"alg":"none",` + f.header()[1:])
			},
			want: token.ErrHeader,
		},

		// Signature.
		{
			name: "signature-other-key",
			tok:  func(f *fixture) string { return mustSign(f.t, f.impostor, testClaims()) },
			want: token.ErrSignature,
		},
		{
			name: "signature-of-other-payload",
			tok: func(f *fixture) string {
				h, _, s := f.parts()
				_, p, _ := segments(f.t, f.withClaims(with("sub", "1")))
				return h + "." + p + "." + s
			},
			want: token.ErrSignature,
		},
		{
			name: "signature-truncated",
			tok:  withSignature(func(s []byte) []byte { return s[:len(s)-1] }),
			want: token.ErrSignature,
		},
		{
			name: "signature-extended",
			tok:  withSignature(func(s []byte) []byte { return append(s, 0) }),
			want: token.ErrSignature,
		},
		{
			name: "signature-zero",
			tok:  withSignature(func(s []byte) []byte { return make([]byte, len(s)) }),
			want: token.ErrSignature,
		},
		{
			name: "signature-bit-flipped",
			tok:  withSignature(func(s []byte) []byte { s[len(s)/2] ^= 1; return s }),
			want: token.ErrSignature,
		},
		{
			name: "signature-asn1",
			algs: []string{token.ES256},
			tok:  asn1Signature,
			want: token.ErrSignature,
		},
		{
			name: "signature-r-s-swapped",
			algs: []string{token.ES256},
			tok:  withSignature(func(s []byte) []byte { return append(s[32:], s[:32]...) }),
			want: token.ErrSignature,
		},

		// Claims.
		{name: "expired", tok: withClaims(expiresIn(-31)), want: token.ErrExpired},
		{name: "expired-at-leeway", tok: withClaims(expiresIn(-30)), want: token.ErrExpired},
		{name: "expired-long-ago", tok: withClaims(expiresIn(-86400)), want: token.ErrExpired},
		{
			name: "nbf-in-future",
			tok:  withClaims(with("nbf", testNow.Unix()+31)),
			want: token.ErrNotYetValid,
		},
		{
			name: "iat-in-future",
			tok:  withClaims(with("iat", testNow.Unix()+31)),
			want: token.ErrNotYetValid,
		},
		{
			name: "issuer-other",
			tok:  withClaims(with("iss", "https://x.example")),
			want: token.ErrIssuer,
		},
		{
			name: "issuer-trailing-slash",
			tok:  withClaims(with("iss", testIssuer+"/")),
			want: token.ErrIssuer,
		},
		{
			name: "issuer-upper-case",
			tok:  withClaims(with("iss", strings.ToUpper(testIssuer))),
			want: token.ErrIssuer,
		},
		{
			name: "audience-other",
			tok:  withClaims(with("aud", "billing")),
			want: token.ErrAudience,
		},
		{
			name: "audience-array-without-ours",
			tok:  withClaims(with("aud", []string{"billing", "API"})),
			want: token.ErrAudience,
		},
		{
			name: "audience-empty-array",
			tok:  withClaims(with("aud", []string{})),
			want: token.ErrClaims,
		},
		{name: "exp-missing", tok: withClaims(without("exp")), want: token.ErrClaims},
		{name: "iat-missing", tok: withClaims(without("iat")), want: token.ErrClaims},
		{name: "iss-missing", tok: withClaims(without("iss")), want: token.ErrClaims},
		{name: "aud-missing", tok: withClaims(without("aud")), want: token.ErrClaims},
		{name: "sub-missing", tok: withClaims(without("sub")), want: token.ErrClaims},
		{name: "jti-missing", tok: withClaims(without("jti")), want: token.ErrClaims},
		{name: "sub-empty", tok: withClaims(with("sub", "")), want: token.ErrClaims},
		{name: "exp-as-string", tok: withClaims(with("exp", "1")), want: token.ErrClaims},
		{name: "iat-as-string", tok: withClaims(with("iat", "1")), want: token.ErrClaims},
		{name: "nbf-as-string", tok: withClaims(with("nbf", "1")), want: token.ErrClaims},
		{name: "exp-fractional", tok: withClaims(expiresIn(0.5)), want: token.ErrClaims},
		{name: "exp-negative", tok: withClaims(with("exp", -1)), want: token.ErrClaims},
		{name: "nbf-negative", tok: withClaims(with("nbf", -1)), want: token.ErrClaims},
		{name: "exp-null", tok: withClaims(with("exp", nil)), want: token.ErrClaims},
		{name: "aud-as-number", tok: withClaims(with("aud", 1)), want: token.ErrClaims},
		{name: "sub-as-number", tok: withClaims(with("sub", 42)), want: token.ErrClaims},
		{name: "payload-null", tok: withPayload("null"), want: token.ErrClaims},
		{name: "payload-array", tok: withPayload("[]"), want: token.ErrClaims},
		{name: "payload-string", tok: withPayload(`"claims"`), want: token.ErrClaims},
	}

	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))
	byAlg := make(map[string]*token.Key)
	for _, k := range keys {
		byAlg[k.Algorithm] = k
	}

	for _, k := range keys {
		t.Run(k.Algorithm, func(t *testing.T) {
			f := &fixture{
				t:        t,
				key:      k,
				impostor: mustImpostor(t, k),
				keys:     byAlg,
				valid:    mustSign(t, k, testClaims()),
			}
			if _, err := v.Verify(f.valid); err != nil {
				t.Fatalf("valid token: %v", err)
			}

			for _, tt := range tests {
				if tt.algs != nil && !slices.Contains(tt.algs, k.Algorithm) {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					f.t = t
					tok := tt.tok(f)

					got, err := v.Verify(tok)
					if !errors.Is(err, tt.want) {
						t.Errorf("Verify: err = %v, want %v", err, tt.want)
					}
					if got != nil {
						t.Errorf("Verify: claims = %+v, want nil", got)
					}
					if code := gatepass.ErrorCode(err); code != gatepass.EINVALIDTOKEN {
						t.Errorf("ErrorCode = %q, want %q", code, gatepass.EINVALIDTOKEN)
					}
				})
			}
		})
	}
}

// algNone returns a case whose token claims alg and is not signed.
func algNone(alg string) func(f *fixture) string {
	return func(f *fixture) string { return unsigned(f.t, alg, f.key.ID) }
}

// unsigned returns a token that claims alg and has a made-up signature.
func unsigned(tb testing.TB, alg, kid string) string {
	header := enc([]byte(headerJSON(alg, kid)))
	return header + "." + enc([]byte(claimsJSON(tb, nil))) + "." + enc([]byte("sig"))
}

func withType(typ string) func(f *fixture) string {
	return func(f *fixture) string {
		return f.withHeader(object(f.algMember(), f.kidMember(), `"typ":`+typ))
	}
}

func withKid(kid string) func(f *fixture) string {
	return func(f *fixture) string { return f.withHeader(headerJSON(f.key.Algorithm, kid)) }
}

func withParam(member string) func(f *fixture) string {
	return func(f *fixture) string { return f.withParam(member) }
}

func withHeader(header string) func(f *fixture) string {
	return func(f *fixture) string { return f.withHeader(header) }
}

func withPayload(payload string) func(f *fixture) string {
	return func(f *fixture) string { return f.withPayload(payload) }
}

func withClaims(edit func(m map[string]any)) func(f *fixture) string {
	return func(f *fixture) string { return f.withClaims(edit) }
}

func withSignature(edit func(sig []byte) []byte) func(f *fixture) string {
	return func(f *fixture) string { return f.withSignature(edit) }
}

// unevenClaims returns valid claims whose base64url length is not a multiple of 4,
// so that the encoding has unused bits.
func unevenClaims(tb testing.TB) string {
	claims := claimsJSON(tb, nil)
	for len(enc([]byte(claims)))%4 == 0 {
		claims += " "
	}
	return claims
}

// asn1Signature returns an ES256 token signed in ASN.1 DER form, as crypto/ecdsa
// produces by default, instead of r || s.
func asn1Signature(f *fixture) string {
	h, p, _ := f.parts()
	private, err := f.key.MarshalPrivate()
	if err != nil {
		f.t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(private)
	if err != nil {
		f.t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(h + "." + p))
	sig, err := ecdsa.SignASN1(rand.Reader, priv.(*ecdsa.PrivateKey), digest[:])
	if err != nil {
		f.t.Fatal(err)
	}
	return h + "." + p + "." + enc(sig)
}

// publicPEM returns the PEM form of k's public key, the secret an attacker would
// try in an HS256 algorithm-confusion attack.
func publicPEM(tb testing.TB, k *token.Key) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// publicJWK returns the published JWK of k, exactly as it appears in the JWKS.
func publicJWK(tb testing.TB, k *token.Key) []byte {
	tb.Helper()
	data, err := token.MarshalJWKS([]*token.Key{k})
	if err != nil {
		tb.Fatal(err)
	}
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) != 1 {
		tb.Fatalf("jwks %s: %v", data, err)
	}
	return set.Keys[0]
}

func TestVerifyAccepts(t *testing.T) {

	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{name: "exp-within-leeway", edit: with("exp", testNow.Unix()-29)},
		{name: "nbf-within-leeway", edit: with("nbf", testNow.Unix()+30)},
		{name: "iat-within-leeway", edit: with("iat", testNow.Unix()+30)},
		{name: "nbf-absent", edit: func(m map[string]any) { delete(m, "nbf") }},
		{name: "audience-array", edit: with("aud", []string{"billing", testAudience})},
		{
			name: "optional-claims-absent",
			edit: func(m map[string]any) {
				for _, name := range []string{"sid", "scope", "client_id", "preferred_username"} {
					delete(m, name)
				}
			},
		},
		{name: "unknown-claim", edit: with("admin", true)},
	}

	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))
	for _, k := range keys {
		for _, tt := range tests {
			t.Run(k.Algorithm+"/"+tt.name, func(t *testing.T) {
				payload := claimsJSON(t, tt.edit)
				var want gatepass.Claims
				if err := json.Unmarshal([]byte(payload), &want); err != nil {
					t.Fatal(err)
				}

				got, err := v.Verify(forge(t, k, headerJSON(k.Algorithm, k.ID), payload))
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if diff := cmp.Diff(got, &want); diff != "" {
					t.Errorf("claims (-got +want):\n%s", diff)
				}
			})
		}
	}
}

func TestVerifyAllowList(t *testing.T) {
	keys := mustLoadKeys(t)
	for _, allowed := range token.Algorithms {
		t.Run(allowed, func(t *testing.T) {
			cfg := testConfig(keys)
			cfg.Algorithms = []string{allowed}
			v := mustVerifier(t, cfg)

			for _, k := range keys {
				var want error
				if k.Algorithm != allowed {
					want = token.ErrAlgorithm
				}
				_, err := v.Verify(mustSign(t, k, testClaims()))
				if !errors.Is(err, want) {
					t.Errorf("Verify(%s token): err = %v, want %v", k.Algorithm, err, want)
				}
			}
		})
	}
}

func TestVerifyClock(t *testing.T) {
	keys := mustLoadKeys(t)
	now := testNow
	cfg := testConfig(keys)
	cfg.Leeway = 0
	cfg.Now = func() time.Time { return now }
	v := mustVerifier(t, cfg)
	tok := mustSign(t, keys[0], testClaims()) // exp is testNow + 900

	tests := []struct {
		name string
		now  time.Time
		want error
	}{
		{name: "at-issue", now: testNow},
		{name: "before-nbf", now: testNow.Add(-time.Second), want: token.ErrNotYetValid},
		{name: "just-before-exp", now: testNow.Add(900*time.Second - time.Millisecond)},
		{name: "at-exp", now: testNow.Add(900 * time.Second), want: token.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.now
			if _, err := v.Verify(tok); !errors.Is(err, tt.want) {
				t.Errorf("Verify: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifySubSecondLeewayRoundsUp(t *testing.T) {
	keys := mustLoadKeys(t)
	cfg := testConfig(keys)
	cfg.Leeway = 500 * time.Millisecond
	v := mustVerifier(t, cfg)

	c := testClaims()
	c.ExpiresAt = testNow.Unix()
	if _, err := v.Verify(mustSign(t, keys[0], c)); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	keys := mustLoadKeys(t)
	public := parsedPublicKeys(t, keys)

	tests := []struct {
		name string
		edit func(cfg *token.VerifierConfig)
	}{
		{name: "no-issuer", edit: func(cfg *token.VerifierConfig) { cfg.Issuer = "" }},
		{name: "no-audience", edit: func(cfg *token.VerifierConfig) { cfg.Audience = "" }},
		{name: "no-algorithms", edit: func(cfg *token.VerifierConfig) { cfg.Algorithms = nil }},
		{
			name: "algorithm-none",
			edit: func(cfg *token.VerifierConfig) {
				cfg.Algorithms = []string{token.ES256, "none"}
			},
		},
		{
			name: "algorithm-unsupported",
			edit: func(cfg *token.VerifierConfig) { cfg.Algorithms = []string{"PS256"} },
		},
		{
			name: "negative-leeway",
			edit: func(cfg *token.VerifierConfig) { cfg.Leeway = -time.Second },
		},
		{name: "no-keys", edit: func(cfg *token.VerifierConfig) { cfg.Keys = nil }},
		{
			name: "nil-key",
			edit: func(cfg *token.VerifierConfig) { cfg.Keys = append(cfg.Keys, nil) },
		},
		{
			name: "zero-key",
			edit: func(cfg *token.VerifierConfig) {
				cfg.Keys = append(cfg.Keys, &token.Key{ID: "z", Algorithm: token.ES256})
			},
		},
		{
			name: "key-algorithm-changed",
			edit: func(cfg *token.VerifierConfig) {
				k := *cfg.Keys[0]
				k.Algorithm = otherAlgorithm(k.Algorithm)
				cfg.Keys = []*token.Key{&k}
			},
		},
		{
			name: "duplicate-kid",
			edit: func(cfg *token.VerifierConfig) { cfg.Keys = append(cfg.Keys, public[0]) },
		},
		{
			name: "no-key-for-allowed-algorithms",
			edit: func(cfg *token.VerifierConfig) {
				cfg.Keys = []*token.Key{keys[0]}
				cfg.Algorithms = []string{otherAlgorithm(keys[0].Algorithm)}
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(slices.Clone(keys))
			tt.edit(&cfg)
			if _, err := token.NewVerifier(cfg); err == nil {
				t.Error("NewVerifier: err = nil, want an error")
			}
		})
	}
}

func TestVerifierCopiesKeys(t *testing.T) {
	k := mustLoadKey(t, token.ES256)
	v := mustVerifier(t, testConfig([]*token.Key{k}))
	tok := mustSign(t, k, testClaims())

	k.ID, k.Algorithm = "changed", token.HS256
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("Verify after the caller changed its key: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))
	// Each valid token has a tampered twin: another token's payload, its signature.
	var toks, tampered []string
	for _, k := range keys {
		tok := mustSign(t, k, testClaims())
		other := testClaims()
		other.Subject = "1"
		h, _, s := segments(t, tok)
		_, p, _ := segments(t, mustSign(t, k, other))
		toks, tampered = append(toks, tok), append(tampered, h+"."+p+"."+s)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := v.Verify(toks[i%len(toks)]); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
				if _, err := v.Verify(tampered[i%len(toks)]); err == nil {
					t.Error("Verify of a tampered token: err = nil")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestVerifyErrorsAreClientSafe(t *testing.T) {
	errs := []error{
		token.ErrMalformed, token.ErrAlgorithm, token.ErrUnknownKey, token.ErrType,
		token.ErrHeader, token.ErrSignature, token.ErrExpired, token.ErrNotYetValid,
		token.ErrIssuer, token.ErrAudience, token.ErrClaims,
	}
	seen := make(map[string]bool)
	for _, err := range errs {
		if code := gatepass.ErrorCode(err); code != gatepass.EINVALIDTOKEN {
			t.Errorf("ErrorCode(%v) = %q, want %q", err, code, gatepass.EINVALIDTOKEN)
		}
		msg := gatepass.ErrorMessage(err)
		if msg == "" || seen[msg] {
			t.Errorf("message %q is empty or not unique", msg)
		}
		seen[msg] = true
	}
}

// TestVerifyES256IntegerEncodings signs until r and s have each been seen with a
// leading zero byte and with the top bit set: the DER form crypto/ecdsa verifies
// must then drop the zero or add one.
func TestVerifyES256IntegerEncodings(t *testing.T) {
	k := mustLoadKey(t, token.ES256)
	s, err := token.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, testConfig([]*token.Key{k}))

	seen := make(map[string]bool)
	for i := 0; i < 20000 && len(seen) < 4; i++ {
		c := testClaims()
		c.ID = fmt.Sprint(i)
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok); err != nil {
			t.Fatalf("Verify: %v", err)
		}

		_, _, seg := segments(t, tok)
		sig := []byte(mustDecode(t, seg))
		for name, b := range map[string]byte{"r": sig[0], "s": sig[32]} {
			if b == 0 {
				seen[name+"-leading-zero"] = true
			} else if b&0x80 != 0 {
				seen[name+"-top-bit"] = true
			}
		}
	}
	if len(seen) < 4 {
		t.Errorf("saw only %v", seen)
	}
}
