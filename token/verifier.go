package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

// VerifierConfig configures a Verifier. Issuer, Audience, Algorithms and at least one
// key for an allowed algorithm are required.
type VerifierConfig struct {
	// Keys are the verification keys; the private half is not needed.
	Keys []*Key

	// Algorithms are the allowed algorithms. A token's own "alg" header never picks
	// one: it must equal the algorithm of the key its "kid" names (RFC 8725 section
	// 3.1), which stops algorithm-confusion attacks such as HS256 keyed with a
	// public key.
	Algorithms []string

	// Issuer must equal the "iss" claim exactly.
	Issuer string

	// Audience must be one of the "aud" claim's values.
	Audience string

	// Leeway absorbs clock skew between servers; it is applied to exp, nbf and iat
	// and rounded up to whole seconds.
	Leeway time.Duration

	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verifier checks access tokens. It is immutable and safe for concurrent use;
// callers build a new one when the keys change.
type Verifier struct {
	// byHeader maps the exact header segment gatepass issues with each key of an
	// allowed algorithm to that key: the fast path of Verify.
	byHeader map[string]*verifyKey

	// byID maps every key by kid, to explain why a header was rejected.
	byID map[string]*verifyKey

	algorithms []string
	issuer     string
	audience   string
	leeway     int64 // seconds
	now        func() time.Time
}

// verifyKey is a copy of one verification key, taken so that later changes to the
// caller's Key cannot reach a Verifier.
type verifyKey struct {
	Key
	header  string
	sigSize int
	macs    *macPool
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new verifier: %w", err)
	}

	v := &Verifier{
		byHeader:   make(map[string]*verifyKey, len(cfg.Keys)),
		byID:       make(map[string]*verifyKey, len(cfg.Keys)),
		algorithms: slices.Clone(cfg.Algorithms),
		issuer:     cfg.Issuer,
		audience:   cfg.Audience,
		leeway:     seconds(cfg.Leeway),
		now:        cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}

	// Index every key by kid, and by header when its algorithm is allowed.
	for _, k := range cfg.Keys {
		if err := k.check(); err != nil {
			return nil, fmt.Errorf("new verifier: %w", err)
		} else if v.byID[k.ID] != nil {
			return nil, fmt.Errorf("new verifier: duplicate key id %q", k.ID)
		}

		vk := &verifyKey{Key: *k, header: encodeHeader(k.Algorithm, k.ID)}
		vk.sigSize = vk.signatureSize()
		if k.Algorithm == HS256 {
			vk.macs = newMACPool(k.secret)
		}
		v.byID[k.ID] = vk
		if slices.Contains(v.algorithms, k.Algorithm) {
			v.byHeader[vk.header] = vk
		}
	}
	if len(v.byHeader) == 0 {
		return nil, errors.New("new verifier: no key for the allowed algorithms")
	}
	return v, nil
}

// seconds returns d in whole seconds, rounded up.
func seconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

func (cfg *VerifierConfig) validate() error {
	if cfg.Issuer == "" {
		return errors.New("issuer is required")
	} else if cfg.Audience == "" {
		return errors.New("audience is required")
	} else if cfg.Leeway < 0 {
		return errors.New("leeway is negative")
	} else if len(cfg.Algorithms) == 0 {
		return errors.New("no algorithms allowed")
	}
	for _, alg := range cfg.Algorithms {
		if !supported(alg) {
			return unsupported(alg)
		}
	}
	return nil
}

// Verify checks tok and returns its claims. Every error it returns is one of the
// Err variables of this package, so it never echoes any part of the token.
//
// The header is not decoded when it is byte for byte one that gatepass issues; the
// signature is checked before the claims are decoded.
func (v *Verifier) Verify(tok string) (*gatepass.Claims, error) {
	if len(tok) > MaxTokenSize {
		return nil, ErrMalformed
	}
	header, payload, sig, ok := split(tok)
	if !ok {
		return nil, ErrMalformed
	}

	// Fast path: one map lookup both picks the key and proves alg, kid and typ.
	vk := v.byHeader[header]
	if vk == nil {
		return nil, v.headerError(header)
	}

	// A pooled buffer holds a copy of the token, whose prefix is the signing input,
	// and after it the decoded signature and payload. It is sized up front, so the
	// decoding never reallocates it under the slices it reads from. The claims
	// decoded from it share none of its memory.
	end := len(tok)
	sc := getScratch(end + b64.DecodedLen(len(sig)) + b64.DecodedLen(len(payload)))
	defer putScratch(sc)
	buf := append(sc.buf, tok...)
	input := buf[:len(header)+1+len(payload)]
	buf, errSig := b64.AppendDecode(buf, buf[len(input)+1:end])
	mid := len(buf)
	buf, errPayload := b64.AppendDecode(buf, buf[len(header)+1:len(input)])
	if errSig != nil || errPayload != nil {
		return nil, ErrMalformed
	}

	if !vk.verify(input, buf[end:mid], sc.sig[:0]) {
		return nil, ErrSignature
	}

	c, err := decodeClaims(buf[mid:])
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	return c, nil
}

// split cuts tok into its three segments. It accepts nothing but the base64url
// alphabet and two dots, and no empty segment.
func split(tok string) (header, payload, sig string, ok bool) {
	// One table lookup a byte, then the dots are found with vectorized scans.
	for i := 0; i < len(tok); i++ {
		if !tokenByte[tok[i]] {
			return "", "", "", false
		}
	}
	i := strings.IndexByte(tok, '.')
	if i < 0 {
		return "", "", "", false
	}
	j := strings.IndexByte(tok[i+1:], '.') + i + 1
	if j == i || strings.IndexByte(tok[j+1:], '.') >= 0 {
		return "", "", "", false
	}

	header, payload, sig = tok[:i], tok[i+1:j], tok[j+1:]
	return header, payload, sig, header != "" && payload != "" && sig != ""
}

// tokenByte marks the bytes a token may hold: the base64url alphabet and '.'.
var tokenByte = func() (t [256]bool) {
	for c := range t {
		t[c] = isBase64URL(byte(c)) || c == '.'
	}
	return t
}()

// verify reports whether sig is a valid signature of input under vk. The algorithm
// is the key's own, never the token's. tmp is room for an ES256 signature in ASN.1
// form, which would otherwise be allocated.
func (vk *verifyKey) verify(input, sig, tmp []byte) bool {
	if len(sig) != vk.sigSize {
		return false
	}

	switch vk.Algorithm {
	case HS256:
		return vk.macs.equal(input, sig)
	case ES256:
		asn1, ok := appendASN1Signature(tmp, sig)
		digest := sha256.Sum256(input)
		return ok && ecdsa.VerifyASN1(vk.public.(*ecdsa.PublicKey), digest[:], asn1)
	case RS256:
		digest := sha256.Sum256(input)
		pub := vk.public.(*rsa.PublicKey)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case EdDSA:
		return ed25519.Verify(vk.public.(ed25519.PublicKey), input, sig)
	}
	return false
}

// appendASN1Signature converts a JWS ECDSA signature, r || s as two 32-byte
// big-endian integers (RFC 7518 section 3.4), to the DER SEQUENCE of two INTEGERs
// that crypto/ecdsa verifies, appending at most 72 bytes to dst. It reports false
// when r or s is zero.
func appendASN1Signature(dst, sig []byte) ([]byte, bool) {
	r, s := trimLeadingZeros(sig[:32]), trimLeadingZeros(sig[32:])
	if len(r) == 0 || len(s) == 0 {
		return nil, false
	}

	dst = append(dst, 0x30, byte(asn1IntegerSize(r)+asn1IntegerSize(s)))
	dst = appendASN1Integer(dst, r)
	dst = appendASN1Integer(dst, s)
	return dst, true
}

func trimLeadingZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// asn1IntegerSize returns the encoded size of the positive integer b: tag, length
// and a zero byte to keep it positive when its top bit is set.
func asn1IntegerSize(b []byte) int {
	return 2 + len(b) + int(b[0]>>7)
}

func appendASN1Integer(dst, b []byte) []byte {
	dst = append(dst, 0x02, byte(len(b)+int(b[0]>>7)))
	if b[0]&0x80 != 0 {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}

// headerError explains why a header that is not one gatepass issues is rejected.
// It always returns an error: a header that passes every check but differs in its
// bytes (key order, spacing, escapes, "application/at+jwt") is not issued by
// gatepass, so it gets ErrHeader.
func (v *Verifier) headerError(seg string) error {
	raw, err := decodeSegment(seg)
	if err != nil {
		return ErrMalformed
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return ErrMalformed
	}

	alg, ok := stringParam(h, "alg")
	if !ok || !slices.Contains(v.algorithms, alg) {
		return ErrAlgorithm
	}
	kid, ok := stringParam(h, "kid")
	vk := v.byID[kid]
	if !ok || vk == nil {
		return ErrUnknownKey
	} else if alg != vk.Algorithm {
		return ErrAlgorithm
	}

	// RFC 9068 section 4 accepts the full media type too, in any case.
	typ, ok := stringParam(h, "typ")
	if !ok || !strings.EqualFold(typ, accessTokenType) &&
		!strings.EqualFold(typ, "application/"+accessTokenType) {
		return ErrType
	}
	return ErrHeader
}

// stringParam returns the header parameter name if it is a JSON string.
func stringParam(h map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := h[name]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// checkClaims checks the claims RFC 9068 section 4 asks a resource server to check.
// Times are compared in whole seconds, rearranged so that no sum can overflow.
func (v *Verifier) checkClaims(c *gatepass.Claims) error {
	now := v.now().Unix()
	switch {
	case c.ExpiresAt <= 0 || c.IssuedAt <= 0 || c.NotBefore < 0:
		return ErrClaims
	case c.Issuer == "" || c.Subject == "" || c.ID == "" || len(c.Audience) == 0:
		return ErrClaims
	case c.Issuer != v.issuer:
		return ErrIssuer
	case !c.Audience.Contains(v.audience):
		return ErrAudience
	}
	return v.checkTimes(now, c.ExpiresAt, max(c.NotBefore, c.IssuedAt))
}
