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
	// appended to the same pooled buffer, which then becomes the token.
	size := len(s.header) + 1 + b64.EncodedLen(len(payload))
	sc := getScratch(size + 1 + b64.EncodedLen(s.key.signatureSize()))
	defer putScratch(sc)
	buf := append(sc.buf, s.header...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)

	sig, err := s.sign(sc.sig[:0], buf)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// sign returns the JWS signature of input (RFC 7518 section 3), appended to dst
// when the algorithm allows it.
func (s *Signer) sign(dst, input []byte) ([]byte, error) {
	switch s.key.Algorithm {
	case HS256:
		return s.macs.appendSum(dst, input), nil
	case ES256:
		// JWS wants r and s as two fixed-size big-endian integers, not ASN.1
		// (RFC 7518 section 3.4). SignASN1 and a conversion cost less than
		// Sign, whose big.Int results are built from the same ASN.1.
		digest := sha256.Sum256(input)
		der, err := ecdsa.SignASN1(crand.Reader, s.key.private.(*ecdsa.PrivateKey), digest[:])
		if err != nil {
			return nil, err
		}
		sig, ok := appendRawSignature(dst, der)
		if !ok {
			return nil, errors.New("ecdsa signature is not the expected ASN.1")
		}
		return sig, nil
	case RS256:
		// ParseKey and rsa.GenerateKey leave the key's CRT values precomputed,
		// so this is the fast private-key operation.
		digest := sha256.Sum256(input)
		priv := s.key.private.(*rsa.PrivateKey)
		return rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
	case EdDSA:
		return ed25519.Sign(s.key.private.(ed25519.PrivateKey), input), nil
	}
	return nil, unsupported(s.key.Algorithm)
}

// appendRawSignature converts the DER SEQUENCE of two INTEGERs that crypto/ecdsa
// produces for P-256 to r || s as two 32-byte big-endian integers, appended to dst.
// It is the inverse of appendASN1Signature and accepts only minimal DER.
func appendRawSignature(dst, der []byte) ([]byte, bool) {
	// Lengths below 0x80 are the short form, the only one a P-256 signature needs.
	if len(der) < 2 || der[0] != 0x30 || der[1] >= 0x80 || int(der[1]) != len(der)-2 {
		return nil, false
	}
	rest := der[2:]
	dst = append(dst, make([]byte, 64)...)
	raw := dst[len(dst)-64:]
	for i := range 2 {
		var ok bool
		if rest, ok = readASN1Integer(raw[32*i:32*i+32], rest); !ok {
			return nil, false
		}
	}
	return dst, len(rest) == 0
}

// readASN1Integer reads a positive DER INTEGER of at most len(out) bytes from the
// start of der into out, big-endian and left-padded with zeros, and returns what
// follows it.
func readASN1Integer(out, der []byte) ([]byte, bool) {
	if len(der) < 2 || der[0] != 0x02 || der[1] >= 0x80 || int(der[1]) > len(der)-2 {
		return nil, false
	}
	size := 2 + int(der[1])
	n, rest := der[2:size], der[size:]

	// DER is minimal: a leading zero only to clear the sign bit of the next byte.
	if len(n) == 0 || n[0]&0x80 != 0 {
		return nil, false
	} else if n[0] == 0 {
		if len(n) == 1 || n[1]&0x80 == 0 {
			return nil, false
		}
		n = n[1:]
	}
	if len(n) > len(out) {
		return nil, false
	}
	copy(out[len(out)-len(n):], n)
	return rest, true
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

// macState is one pooled HMAC and room for its output, so that computing a MAC
// allocates nothing.
type macState struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

func newMACPool(secret []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, secret)} }
	return p
}

// appendSum appends the HMAC of msg to dst.
func (p *macPool) appendSum(dst, msg []byte) []byte {
	m := p.pool.Get().(*macState)
	m.mac.Write(msg)
	dst = m.mac.Sum(dst)

	m.mac.Reset()
	p.pool.Put(m)
	return dst
}

// equal reports in constant time whether mac is the HMAC of msg.
func (p *macPool) equal(msg, mac []byte) bool {
	m := p.pool.Get().(*macState)
	m.mac.Write(msg)
	ok := hmac.Equal(m.mac.Sum(m.sum[:0]), mac)

	m.mac.Reset()
	p.pool.Put(m)
	return ok
}
