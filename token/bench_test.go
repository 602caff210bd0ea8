package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// The benchmarks in this file measure Verify and Sign per algorithm next to two
// baselines run in the same process, so that ratios between them hold even on a
// noisy machine:
//
//   - Floor: the least work any verifier of these tokens does with the standard
//     library: base64-decode the signature and payload, check the signature, and
//     json.Unmarshal the claims into gatepass.Claims. No header or claim checks.
//   - GolangJWT: github.com/golang-jwt/jwt/v5 configured like our verifier.
//
// UnmarshalClaims measures json.Unmarshal of the same claims alone: its allocations
// are the budget of one Verify. DecodeClaims measures the decoding Verify does.
// Compare medians of several runs:
//
//	go test -run '^$' -benchmem -count 10 ./token -bench \
//		'^Benchmark(Verify|Floor|GolangJWT|Sign)(ES256|HS256|RS256|EdDSA)$|Claims$'

func BenchmarkVerifyES256(b *testing.B) { benchmarkVerify(b, token.ES256) }
func BenchmarkVerifyHS256(b *testing.B) { benchmarkVerify(b, token.HS256) }
func BenchmarkVerifyRS256(b *testing.B) { benchmarkVerify(b, token.RS256) }
func BenchmarkVerifyEdDSA(b *testing.B) { benchmarkVerify(b, token.EdDSA) }

func BenchmarkFloorES256(b *testing.B) { benchmarkFloor(b, token.ES256) }
func BenchmarkFloorHS256(b *testing.B) { benchmarkFloor(b, token.HS256) }
func BenchmarkFloorRS256(b *testing.B) { benchmarkFloor(b, token.RS256) }
func BenchmarkFloorEdDSA(b *testing.B) { benchmarkFloor(b, token.EdDSA) }

func BenchmarkGolangJWTES256(b *testing.B) { benchmarkGolangJWT(b, token.ES256) }
func BenchmarkGolangJWTHS256(b *testing.B) { benchmarkGolangJWT(b, token.HS256) }
func BenchmarkGolangJWTRS256(b *testing.B) { benchmarkGolangJWT(b, token.RS256) }
func BenchmarkGolangJWTEdDSA(b *testing.B) { benchmarkGolangJWT(b, token.EdDSA) }

func BenchmarkSignES256(b *testing.B) { benchmarkSign(b, token.ES256) }
func BenchmarkSignHS256(b *testing.B) { benchmarkSign(b, token.HS256) }
func BenchmarkSignRS256(b *testing.B) { benchmarkSign(b, token.RS256) }
func BenchmarkSignEdDSA(b *testing.B) { benchmarkSign(b, token.EdDSA) }

func benchmarkVerify(b *testing.B, alg string) {
	keys := mustLoadKeys(b)
	v := mustVerifier(b, testConfig(keys))
	tok := mustSign(b, mustLoadKey(b, alg), testClaims())

	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkFloor(b *testing.B, alg string) {
	k := mustLoadKey(b, alg)
	check := floorCheck(b, k)
	tok := mustSign(b, k, testClaims())
	if _, err := floorVerify(tok, check); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := floorVerify(tok, check); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkGolangJWT(b *testing.B, alg string) {
	keys := mustLoadKeys(b)
	oracle := oracleKeys(b, keys)
	tok := mustSign(b, mustLoadKey(b, alg), testClaims())

	b.ReportAllocs()
	for b.Loop() {
		if _, err := oracleVerify(tok, oracle); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkSign(b *testing.B, alg string) {
	s, err := token.NewSigner(mustLoadKey(b, alg))
	if err != nil {
		b.Fatal(err)
	}
	c := testClaims()

	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalClaims decodes the claims of a token with encoding/json alone,
// as Sign encodes them.
func BenchmarkUnmarshalClaims(b *testing.B) {
	payload, err := json.Marshal(testClaims())
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(payload, new(gatepass.Claims)); err != nil {
			b.Fatal(err)
		}
	}
}

// floorVerify does the least work that verifies tok: it trusts the header and the
// claims, and leaves the signature check to check.
func floorVerify(tok string, check func(input, sig []byte) bool) (*gatepass.Claims, error) {
	dot := strings.LastIndexByte(tok, '.')
	input := tok[:dot]
	sig, err := base64URL.DecodeString(tok[dot+1:])
	if err != nil {
		return nil, err
	}
	payload, err := base64URL.DecodeString(input[strings.IndexByte(input, '.')+1:])
	if err != nil {
		return nil, err
	}

	if !check([]byte(input), sig) {
		return nil, errors.New("invalid signature")
	}
	c := new(gatepass.Claims)
	if err := json.Unmarshal(payload, c); err != nil {
		return nil, err
	}
	return c, nil
}

// floorCheck returns the plain standard-library signature check for k.
func floorCheck(tb testing.TB, k *token.Key) func(input, sig []byte) bool {
	tb.Helper()
	switch k.Algorithm {
	case token.HS256:
		secret := mustPrivate(tb, k)
		return func(input, sig []byte) bool {
			mac := hmac.New(sha256.New, secret)
			mac.Write(input)
			return hmac.Equal(mac.Sum(nil), sig)
		}
	case token.ES256:
		pub := k.Public().(*ecdsa.PublicKey)
		return func(input, sig []byte) bool {
			if len(sig) != 64 {
				return false
			}
			digest := sha256.Sum256(input)
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(pub, digest[:], r, s)
		}
	case token.RS256:
		pub := k.Public().(*rsa.PublicKey)
		return func(input, sig []byte) bool {
			digest := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
		}
	case token.EdDSA:
		pub := k.Public().(ed25519.PublicKey)
		return func(input, sig []byte) bool { return ed25519.Verify(pub, input, sig) }
	}
	tb.Fatalf("unexpected algorithm %q", k.Algorithm)
	return nil
}

// BenchmarkVerifyReject measures the cost of turning away forged tokens, which an
// attacker can send at will.
func BenchmarkVerifyReject(b *testing.B) {
	keys := mustLoadKeys(b)
	v := mustVerifier(b, testConfig(keys))
	k := keys[0]
	tests := []struct {
		name string
		tok  string
	}{
		{name: "alg-none", tok: unsigned(b, "none", k.ID)},
		{name: "bad-signature", tok: mustSign(b, mustImpostor(b, k), testClaims())},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tt.tok); err == nil {
					b.Fatal("Verify accepted a forgery")
				}
			}
		})
	}
}

// BenchmarkDecodeClaims decodes the same claims as BenchmarkUnmarshalClaims, the
// way Verify does.
func BenchmarkDecodeClaims(b *testing.B) {
	payload, err := json.Marshal(testClaims())
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.DecodeClaims(payload); err != nil {
			b.Fatal(err)
		}
	}
}
