package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// jwk is one JSON Web Key (RFC 7517 section 4) with the public members gatepass
// reads and writes. Private members (d, p, q, dp, dq, qi, k) have no field, so they
// can be neither published nor read.
type jwk struct {
	Kty    string   `json:"kty"`
	Crv    string   `json:"crv,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	Kid    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
}

// jwks is a JWK Set (RFC 7517 section 5).
type jwks struct {
	Keys []jwk `json:"keys"`
}

// ktys maps each asymmetric algorithm to the key type it needs. HS256 has no entry:
// a symmetric key is never read from, nor written to, a JWKS.
var ktys = map[string]string{ES256: "EC", RS256: "RSA", EdDSA: "OKP"}

// MarshalJWKS returns the JWK Set that publishes the public halves of keys, with
// "use":"sig", "alg" and "kid" on each. HS256 keys are skipped: their secret must
// never leave the server. An empty set is {"keys":[]}.
func MarshalJWKS(keys []*Key) ([]byte, error) {
	set := jwks{Keys: make([]jwk, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, fmt.Errorf("marshal jwks: %w", err)
		} else if seen[k.ID] {
			return nil, fmt.Errorf("marshal jwks: duplicate key id %q", k.ID)
		}
		seen[k.ID] = true

		if k.Algorithm == HS256 {
			continue
		}
		j, err := publicJWK(k.public)
		if err != nil {
			return nil, fmt.Errorf("marshal jwks: %w", err)
		}
		j.Kid, j.Alg, j.Use = k.ID, k.Algorithm, "sig"
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// publicJWK returns the key-type members of pub's JWK.
func publicJWK(pub crypto.PublicKey) (jwk, error) {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return jwk{}, errors.New("ecdsa key is not on P-256")
		}
		// Bytes is 0x04 || X || Y, each coordinate padded to 32 bytes as RFC 7518
		// section 6.2.1.2 requires.
		point, err := pub.Bytes()
		if err != nil {
			return jwk{}, fmt.Errorf("encode ecdsa key: %w", err)
		}
		x, y := point[1:33], point[33:]
		return jwk{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(x), Y: b64.EncodeToString(y)}, nil
	case *rsa.PublicKey:
		if err := checkRSA(pub); err != nil {
			return jwk{}, err
		}
		e := big.NewInt(int64(pub.E)).Bytes()
		return jwk{Kty: "RSA", N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(e)}, nil
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return jwk{}, errors.New("ed25519 key has the wrong size")
		}
		return jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(pub)}, nil
	}
	return jwk{}, fmt.Errorf("unsupported public key type %T", pub)
}

// ParseJWKS returns the verification keys of a JWK Set, with no private half. It
// skips entries it cannot use for gatepass tokens: an unknown kty or alg, no alg (the
// algorithm is bound to the key, never guessed: RFC 8725 section 3.1), Ed448, no kid,
// a use other than "sig", key_ops without "verify", and every symmetric key. An entry
// with a supported alg that is invalid (kty or crv that does not fit the alg, a point
// off the curve, an RSA modulus outside 2048 to 4096 bits) fails the whole set, as
// does a duplicate kid. Private members are ignored.
func ParseJWKS(data []byte) ([]*Key, error) {
	var set jwks
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	} else if set.Keys == nil {
		return nil, errors.New("parse jwks: no keys member")
	}

	keys := make([]*Key, 0, len(set.Keys))
	seen := make(map[string]bool, len(set.Keys))
	for i, j := range set.Keys {
		if !j.usable() {
			continue
		}
		k, err := j.key()
		if err != nil {
			return nil, fmt.Errorf("parse jwks: key %d: %w", i, err)
		} else if seen[k.ID] {
			return nil, fmt.Errorf("parse jwks: duplicate key id %q", k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// usable reports whether j is meant for verifying signatures with an asymmetric
// algorithm gatepass supports, and can be chosen by a token's "kid".
func (j *jwk) usable() bool {
	switch {
	case ktys[j.Alg] == "" || j.Kid == "":
		return false
	case j.Alg == EdDSA && j.Crv != "Ed25519": // Ed448 shares alg EdDSA
		return false
	case j.Use != "" && j.Use != "sig":
		return false
	case len(j.KeyOps) > 0 && !slices.Contains(j.KeyOps, "verify"):
		return false
	case j.Kty != "EC" && j.Kty != "RSA" && j.Kty != "OKP":
		return false
	}
	return true
}

// key returns the public key j describes.
func (j *jwk) key() (*Key, error) {
	if j.Kty != ktys[j.Alg] {
		return nil, fmt.Errorf("kty %q does not fit alg %q", j.Kty, j.Alg)
	}

	var pub crypto.PublicKey
	var err error
	switch j.Alg {
	case ES256:
		pub, err = j.ecPublicKey()
	case RS256:
		pub, err = j.rsaPublicKey()
	case EdDSA:
		pub, err = j.edPublicKey()
	}
	if err != nil {
		return nil, err
	}

	k := &Key{ID: j.Kid, Algorithm: j.Alg, public: pub}
	if err := k.check(); err != nil {
		return nil, err
	}
	return k, nil
}

func (j *jwk) ecPublicKey() (*ecdsa.PublicKey, error) {
	if j.Crv != "P-256" {
		return nil, fmt.Errorf("crv %q does not fit %s", j.Crv, ES256)
	}
	x, errX := decodeSegment(j.X)
	y, errY := decodeSegment(j.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("ec coordinates are not 32-byte base64url values")
	}

	// ParseUncompressedPublicKey rejects points that are not on the curve and the
	// point at infinity.
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("parse ec point: %w", err)
	}
	return pub, nil
}

func (j *jwk) rsaPublicKey() (*rsa.PublicKey, error) {
	n, errN := decodeSegment(j.N)
	e, errE := decodeSegment(j.E)
	if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("rsa n or e is not a valid base64url value")
	}

	var exp int
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	if err := checkRSA(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

func (j *jwk) edPublicKey() (ed25519.PublicKey, error) {
	x, err := decodeSegment(j.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, errors.New("ed25519 x is not a 32-byte base64url value")
	}
	return ed25519.PublicKey(x), nil
}
