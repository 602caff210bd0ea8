package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/gatepass/gatepass"
)

// Signer signs access tokens with one key. It is safe for concurrent use.
type Signer struct {
	key    Key
	header string // the encoded header segment, the same for every token
	macs   *macPool
}

// NewSigner returns a Signer for k, which must have its private half.
func NewSigner(k *Key) (*Signer, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	} else if !k.hasPrivate() {
		return nil, fmt.Errorf("new signer: %w", errNoPrivate)
	}

	s := &Signer{key: *k, header: encodeHeader(k.Algorithm, k.ID)}
	if k.Algorithm == HS256 {
		s.macs = newMACPool(k.secret)
	}
	return s, nil
}

// Sign returns the compact serialization of an access token carrying c. Its header is
// exactly {"alg":"<alg>","kid":"<kid>","typ":"at+jwt"}. Sign does not check the
// claims; the caller sets every one RFC 9068 requires.
func (s *Signer) Sign(c *gatepass.Claims) (string, error) {
	if c == nil {
		return "", errors.New("sign: nil claims")
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign: encode claims: %w", err)
	}

	// The signing input is header.payload (RFC 7515 section 5.1); the signature is
	// appended to the same buffer.
	size := len(s.header) + 1 + b64.EncodedLen(len(payload))
	buf := make([]byte, 0, size+1+b64.EncodedLen(s.key.signatureSize()))
	buf = append(buf, s.header...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)

	sig, err := s.sign(buf)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// sign returns the JWS signature of input (RFC 7518 section 3).
func (s *Signer) sign(input []byte) ([]byte, error) {
	switch s.key.Algorithm {
	case HS256:
		return s.macs.sum(input), nil
	case ES256:
		// JWS wants r and s as two fixed-size big-endian integers, not ASN.1
		// (RFC 7518 section 3.4).
		digest := sha256.Sum256(input)
		r, ss, err := ecdsa.Sign(crand.Reader, s.key.private.(*ecdsa.PrivateKey), digest[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
		return sig, nil
	case RS256:
		digest := sha256.Sum256(input)
		priv := s.key.private.(*rsa.PrivateKey)
		return rsa.SignPKCS1v15(crand.Reader, priv, crypto.SHA256, digest[:])
	case EdDSA:
		return ed25519.Sign(s.key.private.(ed25519.PrivateKey), input), nil
	}
	return nil, unsupported(s.key.Algorithm)
}

// encodeHeader returns the encoded header segment of the tokens a key signs. Signer
// issues it and Verifier compares against it byte for byte, so both must use this.
func encodeHeader(alg, kid string) string {
	id, _ := json.Marshal(kid) // a valid UTF-8 string always marshals
	header := `{"alg":"` + alg + `","kid":` + string(id) + `,"typ":"` + accessTokenType + `"}`
	return b64.EncodeToString([]byte(header))
}

// macPool keeps keyed HMAC-SHA256 states for one secret. Keying a fresh HMAC for
// every token costs several allocations and two extra hash blocks.
type macPool struct {
	pool sync.Pool
}

func newMACPool(secret []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return hmac.New(sha256.New, secret) }
	return p
}

// sum returns the HMAC of msg.
func (p *macPool) sum(msg []byte) []byte {
	mac := p.pool.Get().(hash.Hash)
	mac.Write(msg)
	sum := mac.Sum(nil)

	mac.Reset()
	p.pool.Put(mac)
	return sum
}
