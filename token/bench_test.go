package token_test

import (
	"testing"

	"github.com/gatepass/gatepass/token"
)

func BenchmarkSign(b *testing.B) {
	c := testClaims()
	for _, k := range mustLoadKeys(b) {
		s, err := token.NewSigner(k)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(k.Algorithm, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	keys := mustLoadKeys(b)
	v := mustVerifier(b, testConfig(keys))
	for _, k := range keys {
		tok := mustSign(b, k, testClaims())
		b.Run(k.Algorithm, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyGolangJWT verifies the same tokens with golang-jwt, configured
// like our verifier, for comparison.
func BenchmarkVerifyGolangJWT(b *testing.B) {
	keys := mustLoadKeys(b)
	oracle := oracleKeys(b, keys)
	for _, k := range keys {
		tok := mustSign(b, k, testClaims())
		b.Run(k.Algorithm, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := oracleVerify(tok, oracle); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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
