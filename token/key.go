package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Key sizes. RSA keys are capped so that one forged token cannot cost a verifier
// more than a 4096-bit operation.
const (
	hmacSecretSize = 32
	rsaMinBits     = 2048
	rsaMaxBits     = 4096
	keyIDSize      = 16
)

// Key is a signing or verification key for one algorithm. Keys made by GenerateKey
// and ParseKey hold the private half; keys parsed from a JWKS have no private half.
// Key material never changes after construction.
type Key struct {
	// ID is the "kid" header of the tokens the key signs.
	ID string

	// Algorithm is one of Algorithms.
	Algorithm string

	secret  []byte           // HS256 only
	private crypto.Signer    // ES256, RS256, EdDSA; nil in a public key
	public  crypto.PublicKey // ES256, RS256, EdDSA
}

// GenerateKey returns a new key for alg. Asymmetric keys get their RFC 7638 JWK
// thumbprint as ID; HS256 keys get a 32-byte secret and 16 random bytes as ID.
//
// rand supplies the HS256 secret and ID and the Ed25519 seed; nil means crypto/rand.
// Since Go 1.26 ECDSA and RSA key generation ignore it and always use a secure source
// (see testing/cryptotest.SetGlobalRandom for deterministic tests).
func GenerateKey(alg string, rand io.Reader) (*Key, error) {
	if rand == nil {
		rand = crand.Reader
	}

	var priv crypto.Signer
	var err error
	switch alg {
	case HS256:
		return generateSecret(rand)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand)
	case RS256:
		priv, err = rsa.GenerateKey(rand, rsaMinBits)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand)
	default:
		return nil, unsupported(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}

	k := &Key{Algorithm: alg, private: priv, public: priv.Public()}
	if k.ID, err = Thumbprint(k.public); err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return k, nil
}

func generateSecret(rand io.Reader) (*Key, error) {
	buf := make([]byte, hmacSecretSize+keyIDSize)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, fmt.Errorf("generate HS256 key: %w", err)
	}

	return &Key{
		ID:        b64.EncodeToString(buf[hmacSecretSize:]),
		Algorithm: HS256,
		secret:    buf[:hmacSecretSize:hmacSecretSize],
	}, nil
}

// ParseKey returns the key with the given ID for alg. private is the private key in
// PKCS #8 DER form, or the raw secret (at least 32 bytes) for HS256; ParseKey keeps
// a copy. It is the inverse of MarshalPrivate.
func ParseKey(id, alg string, private []byte) (*Key, error) {
	k := &Key{ID: id, Algorithm: alg}
	switch alg {
	case HS256:
		k.secret = bytes.Clone(private)
	case ES256, RS256, EdDSA:
		priv, err := x509.ParsePKCS8PrivateKey(private)
		if err != nil {
			return nil, fmt.Errorf("parse %s key: %w", alg, err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("parse %s key: unsupported key type %T", alg, priv)
		}
		if rk, isRSA := priv.(*rsa.PrivateKey); isRSA {
			// Make sure signing uses the CRT values: without them every token
			// would pay for a full-size private exponentiation. x509 usually has
			// computed them already, and then this does nothing.
			rk.Precompute()
		}
		k.private, k.public = signer, signer.Public()
	default:
		return nil, unsupported(alg)
	}

	if err := k.check(); err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	return k, nil
}

// MarshalPrivate returns the private key in PKCS #8 DER form, or a copy of the
// secret for HS256. It fails for a key without a private half.
func (k *Key) MarshalPrivate() ([]byte, error) {
	switch {
	case k.secret != nil:
		return bytes.Clone(k.secret), nil
	case k.private != nil:
		der, err := x509.MarshalPKCS8PrivateKey(k.private)
		if err != nil {
			return nil, fmt.Errorf("marshal %s key: %w", k.Algorithm, err)
		}
		return der, nil
	}
	return nil, errNoPrivate
}

// Public returns the public key: *ecdsa.PublicKey, *rsa.PublicKey or
// ed25519.PublicKey. It returns nil for HS256, which has no public half.
func (k *Key) Public() crypto.PublicKey {
	return k.public
}

var errNoPrivate = errors.New("key has no private half")

// hasPrivate reports whether k can sign.
func (k *Key) hasPrivate() bool {
	return k.secret != nil || k.private != nil
}

// check reports whether k is usable: it has an ID, a supported algorithm and key
// material of the type and size that algorithm needs. A Key built as a literal, or
// whose Algorithm was changed after construction, fails here instead of at use.
func (k *Key) check() error {
	if k == nil {
		return errors.New("nil key")
	} else if k.ID == "" {
		return errors.New("key has no id")
	} else if !utf8.ValidString(k.ID) {
		return errors.New("key id is not valid UTF-8")
	}

	var ok bool
	switch k.Algorithm {
	case HS256:
		ok = len(k.secret) >= hmacSecretSize
	case ES256:
		pub, isEC := k.public.(*ecdsa.PublicKey)
		ok = isEC && pub.Curve == elliptic.P256()
	case RS256:
		pub, isRSA := k.public.(*rsa.PublicKey)
		ok = isRSA && checkRSA(pub) == nil
	case EdDSA:
		pub, isEd := k.public.(ed25519.PublicKey)
		ok = isEd && len(pub) == ed25519.PublicKeySize
	default:
		return unsupported(k.Algorithm)
	}
	if !ok {
		return fmt.Errorf("key %q does not fit %s", k.ID, k.Algorithm)
	}
	return nil
}

// checkRSA enforces the modulus sizes gatepass accepts and a sane public exponent.
func checkRSA(pub *rsa.PublicKey) error {
	if pub.N == nil {
		return errors.New("rsa key has no modulus")
	} else if bits := pub.N.BitLen(); bits < rsaMinBits || bits > rsaMaxBits {
		return fmt.Errorf("rsa modulus is %d bits, want %d to %d", bits, rsaMinBits, rsaMaxBits)
	} else if pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1 {
		return errors.New("rsa public exponent is invalid")
	}
	return nil
}

// signatureSize returns the length in bytes of k's signatures.
func (k *Key) signatureSize() int {
	switch k.Algorithm {
	case HS256:
		return sha256.Size
	case ES256:
		return 64
	case RS256:
		return k.public.(*rsa.PublicKey).Size()
	case EdDSA:
		return ed25519.SignatureSize
	}
	return 0
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an ES256, RS256 or EdDSA public
// key: the base64url SHA-256 of its required JWK members in lexicographic order.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return "", err
	}

	var canonical string
	switch j.Kty {
	case "EC":
		canonical = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "RSA":
		canonical = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "OKP":
		canonical = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:]), nil
}

func unsupported(alg string) error {
	return fmt.Errorf("unsupported algorithm %q", alg)
}
