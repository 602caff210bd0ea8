package token_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass/token"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parsedPublicKeys returns the public halves of keys as a JWKS consumer sees them.
func parsedPublicKeys(tb testing.TB, keys []*token.Key) []*token.Key {
	tb.Helper()
	data, err := token.MarshalJWKS(keys)
	if err != nil {
		tb.Fatal(err)
	}
	public, err := token.ParseJWKS(data)
	if err != nil {
		tb.Fatal(err)
	}
	return public
}

func TestMarshalJWKSGolden(t *testing.T) {
	data, err := token.MarshalJWKS(mustLoadKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')

	const golden = "testdata/jwks.golden.json"
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.String(), string(want)); diff != "" {
		t.Errorf("MarshalJWKS (-got +want):\n%s", diff)
	}
}

func TestMarshalJWKSPublishesNoSecret(t *testing.T) {
	keys := append(mustLoadKeys(t), mustGenerateKey(t, token.HS256))
	data, err := token.MarshalJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}

	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	public := []string{"kty", "crv", "x", "y", "n", "e", "kid", "alg", "use"}
	var algs []string
	for _, jwk := range set.Keys {
		for name := range jwk {
			if !slices.Contains(public, name) {
				t.Errorf("jwk %v has member %q", jwk["kid"], name)
			}
		}
		algs = append(algs, jwk["alg"].(string))
	}
	if want := []string{token.ES256, token.RS256, token.EdDSA}; !slices.Equal(algs, want) {
		t.Errorf("published algorithms = %v, want %v", algs, want)
	}

	// No form of an HS256 secret, nor its key ID, appears anywhere.
	for _, k := range keys {
		if k.Algorithm != token.HS256 {
			continue
		}
		secret := mustPrivate(t, k)
		for _, form := range []string{enc(secret), string(secret), k.ID} {
			if strings.Contains(string(data), form) {
				t.Errorf("jwks contains HS256 key %s", k.ID)
			}
		}
	}
}

func TestMarshalJWKSEmpty(t *testing.T) {
	for _, keys := range [][]*token.Key{nil, {mustLoadKey(t, token.HS256)}} {
		got, err := token.MarshalJWKS(keys)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"keys":[]}`; string(got) != want {
			t.Errorf("MarshalJWKS = %s, want %s", got, want)
		}
	}
}

func TestMarshalJWKSErrors(t *testing.T) {
	es256 := mustLoadKey(t, token.ES256)
	tests := []struct {
		name string
		keys []*token.Key
	}{
		{name: "nil-key", keys: []*token.Key{nil}},
		{name: "zero-key", keys: []*token.Key{{ID: "k", Algorithm: token.ES256}}},
		{name: "duplicate-kid", keys: []*token.Key{es256, es256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := token.MarshalJWKS(tt.keys); err == nil {
				t.Error("MarshalJWKS: err = nil, want an error")
			}
		})
	}
}

func TestJWKSRoundTrip(t *testing.T) {
	keys := mustLoadKeys(t)
	public := parsedPublicKeys(t, keys)

	var asymmetricKeys []*token.Key
	for _, k := range keys {
		if k.Algorithm != token.HS256 {
			asymmetricKeys = append(asymmetricKeys, k)
		}
	}
	if len(public) != len(asymmetricKeys) {
		t.Fatalf("ParseJWKS returned %d keys, want %d", len(public), len(asymmetricKeys))
	}
	for i, k := range asymmetricKeys {
		got := public[i]
		same := got.ID == k.ID && got.Algorithm == k.Algorithm
		if !same || !publicEqual(got.Public(), k.Public()) {
			t.Errorf("key %d = (%q, %q), want (%q, %q) with the same public key",
				i, got.ID, got.Algorithm, k.ID, k.Algorithm)
		}
	}

	// A verifier built from the published keys accepts what the originals sign.
	cfg := testConfig(public)
	cfg.Algorithms = []string{token.ES256, token.RS256, token.EdDSA}
	v := mustVerifier(t, cfg)
	for _, k := range asymmetricKeys {
		if _, err := v.Verify(mustSign(t, k, testClaims())); err != nil {
			t.Errorf("%s: Verify: %v", k.Algorithm, err)
		}
	}
}

// jwkMembers returns the published JWK of the test key for alg as a map to edit.
func jwkMembers(tb testing.TB, alg string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(publicJWK(tb, mustLoadKey(tb, alg)), &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// jwksOf returns a JWK Set of the given entries.
func jwksOf(tb testing.TB, entries ...map[string]any) []byte {
	tb.Helper()
	data, err := json.Marshal(map[string]any{"keys": entries})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// edited returns the published JWK of the test key for alg, changed by edit.
func edited(tb testing.TB, alg string, edit func(m map[string]any)) map[string]any {
	m := jwkMembers(tb, alg)
	edit(m)
	return m
}

// jwksWith returns a JWK Set of the test key for alg with one member set to value.
func jwksWith(tb testing.TB, alg, name string, value any) []byte {
	return jwksOf(tb, edited(tb, alg, with(name, value)))
}

func TestParseJWKSSkips(t *testing.T) {
	secret := map[string]any{"kty": "oct", "k": enc(make([]byte, 32)), "kid": "s", "alg": "HS256"}

	tests := []struct {
		name  string
		entry map[string]any
		want  int // keys returned
	}{
		{name: "symmetric", entry: secret},
		{name: "alg-missing", entry: edited(t, token.ES256, without("alg"))},
		{name: "alg-unsupported", entry: edited(t, token.ES256, with("alg", "ES384"))},
		{name: "alg-none", entry: edited(t, token.ES256, with("alg", "none"))},
		{name: "kid-missing", entry: edited(t, token.ES256, without("kid"))},
		{name: "use-enc", entry: edited(t, token.RS256, with("use", "enc"))},
		{
			name:  "key-ops-without-verify",
			entry: edited(t, token.RS256, with("key_ops", []string{"encrypt"})),
		},
		{name: "kty-unknown", entry: edited(t, token.EdDSA, with("kty", "AKP"))},
		{name: "ed448", entry: edited(t, token.EdDSA, with("crv", "Ed448"))},
		{name: "use-missing", entry: edited(t, token.ES256, without("use")), want: 1},
		{
			name:  "key-ops-verify",
			entry: edited(t, token.EdDSA, with("key_ops", []string{"verify"})),
			want:  1,
		},
		{
			name:  "private-members-ignored",
			entry: edited(t, token.ES256, with("d", enc(make([]byte, 32)))),
			want:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := token.ParseJWKS(jwksOf(t, tt.entry))
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tt.want {
				t.Errorf("ParseJWKS returned %d keys, want %d", len(keys), tt.want)
			}
			for _, k := range keys {
				if _, err := k.MarshalPrivate(); err == nil {
					t.Error("a key parsed from a JWKS has a private half")
				}
			}
		})
	}
}

func TestParseJWKSErrors(t *testing.T) {

	// A point off P-256: the published x with y = 1.
	one := make([]byte, 32)
	one[31] = 1
	// A 1024-bit modulus.
	small := enc(append([]byte{0x80}, make([]byte, 127)...))

	tests := []struct {
		name string
		data []byte
	}{
		{name: "not-json", data: []byte("{")},
		{name: "no-keys-member", data: []byte(`{}`)},
		{name: "keys-null", data: []byte(`{"keys":null}`)},
		{name: "keys-not-array", data: []byte(`{"keys":{}}`)},
		{name: "ec-point-off-curve", data: jwksWith(t, token.ES256, "y", enc(one))},
		{name: "ec-short-coordinate", data: jwksWith(t, token.ES256, "x", enc(one[1:]))},
		{name: "ec-padded-coordinate", data: jwksWith(t, token.ES256, "x", enc(one)+"=")},
		{name: "ec-wrong-curve", data: jwksWith(t, token.ES256, "crv", "P-384")},
		{name: "ec-x-not-string", data: jwksWith(t, token.ES256, "x", 1)},
		{name: "kty-does-not-fit-alg", data: jwksWith(t, token.RS256, "alg", token.ES256)},
		{name: "rsa-1024-bit", data: jwksWith(t, token.RS256, "n", small)},
		{name: "rsa-e-even", data: jwksWith(t, token.RS256, "e", enc([]byte{1, 0, 0}))},
		{name: "rsa-e-one", data: jwksWith(t, token.RS256, "e", enc([]byte{1}))},
		{name: "rsa-e-too-long", data: jwksWith(t, token.RS256, "e", enc(make([]byte, 9)))},
		{name: "rsa-e-missing", data: jwksWith(t, token.RS256, "e", "")},
		{name: "ed25519-short", data: jwksWith(t, token.EdDSA, "x", enc(one[1:]))},
		{
			name: "duplicate-kid",
			data: jwksOf(t, jwkMembers(t, token.ES256),
				edited(t, token.EdDSA, with("kid", "test-es256"))),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keys, err := token.ParseJWKS(tt.data); err == nil {
				t.Errorf("ParseJWKS returned %d keys, want an error", len(keys))
			}
		})
	}
}
