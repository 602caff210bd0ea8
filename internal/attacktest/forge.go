package attacktest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gatepass/gatepass/token"
)

// Key is one of the server's signing keys, as its store holds it.
type Key struct {
	ID        string
	Algorithm string

	// Private is the private key in PKCS #8 DER form, or the secret for HS256.
	Private []byte
}

// Target describes the server under attack.
type Target struct {
	// Current signs the server's tokens. Other is an older key of another
	// algorithm, or at least another key, that the server still accepts.
	Current, Other Key

	// JWKS is the server's JWK Set, as anyone can download it.
	JWKS []byte

	// Access and Refresh are a genuine token pair the server issued.
	Access, Refresh string

	// OtherSubject is the "sub" of another of the server's users.
	OtherSubject string

	// Now is the server's current time.
	Now time.Time

	// AttackerURL is the root of a site the attacker controls, named by the
	// jku and x5u headers of some cases.
	AttackerURL string
}

// AttackerKeyID is the kid of the attacker's key in AttackerJWKS.
const AttackerKeyID = "attacker"

// Sizes of the long strings the templates offer. longText makes a token larger
// than token.MaxTokenSize; mediumText keeps it under the cap.
const (
	longText   = 12000
	mediumText = 4000
)

// Forger turns recipes into tokens for one target.
type Forger struct {
	t Target

	// header, claims and sig are the genuine access token's header text,
	// claims and signature segment.
	header string
	claims map[string]json.RawMessage
	sig    string

	current, other signer
	attacker       signer

	// attackerJWK is the attacker key's public JWK; attackerCert a
	// self-signed certificate of an attacker key.
	attackerJWK  []byte
	attackerCert []byte

	// pubKid names the server's public key used as an HMAC secret, pub is the
	// key and pubJWK its JWK exactly as published.
	pubKid string
	pub    crypto.PublicKey
	pubJWK []byte

	vars *strings.Replacer
}

// NewForger prepares the keys and values the recipes need for t: it parses the
// genuine token and the server's keys and makes the attacker's own.
func NewForger(t Target) (*Forger, error) {
	f := &Forger{t: t}
	if err := f.parseGenuine(); err != nil {
		return nil, err
	}

	var err error
	if f.current, err = serverSigner(t.Current); err != nil {
		return nil, fmt.Errorf("current key: %w", err)
	}
	if f.other, err = serverSigner(t.Other); err != nil {
		return nil, fmt.Errorf("other key: %w", err)
	}
	if err := f.makeAttackerKeys(); err != nil {
		return nil, err
	}
	if err := f.findPublicKey(); err != nil {
		return nil, err
	}

	f.vars = f.replacer()
	return f, nil
}

// parseGenuine reads the header, claims and signature of the genuine token.
func (f *Forger) parseGenuine() error {
	parts := strings.Split(f.t.Access, ".")
	if len(parts) != 3 {
		return errors.New("genuine access token is not a compact JWS")
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("genuine header: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("genuine payload: %w", err)
	}
	if err := json.Unmarshal(payload, &f.claims); err != nil {
		return fmt.Errorf("genuine claims: %w", err)
	}
	f.header, f.sig = string(header), parts[2]
	return nil
}

// makeAttackerKeys makes a key of the current algorithm that the attacker
// holds, its JWK, and a self-signed certificate for x5c.
func (f *Forger) makeAttackerKeys() error {
	alg := f.t.Current.Algorithm
	priv, err := generate(alg)
	if err != nil {
		return fmt.Errorf("attacker key: %w", err)
	}
	f.attacker = signer{alg: alg, key: priv}
	if f.attackerJWK, err = attackerJWK(alg, priv); err != nil {
		return err
	}

	// A certificate needs an asymmetric key; an HS256 attacker uses ES256 there.
	certKey, ok := priv.(crypto.Signer)
	if !ok {
		if certKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return fmt.Errorf("attacker certificate key: %w", err)
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "id.example.test"},
		NotBefore:    f.t.Now.Add(-time.Hour),
		NotAfter:     f.t.Now.Add(24 * time.Hour),
	}
	f.attackerCert, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, certKey.Public(),
		certKey)
	if err != nil {
		return fmt.Errorf("attacker certificate: %w", err)
	}
	return nil
}

// findPublicKey picks the server's public key an attacker would use as an HMAC
// secret: the current key's, or the other key's when the current one is HS256
// and so unpublished.
func (f *Forger) findPublicKey() error {
	f.pubKid = f.t.Current.ID
	if f.t.Current.Algorithm == token.HS256 {
		f.pubKid = f.t.Other.ID
	}

	keys, err := token.ParseJWKS(f.t.JWKS)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID == f.pubKid {
			f.pub = k.Public()
		}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(f.t.JWKS, &set); err != nil {
		return fmt.Errorf("parse jwks: %w", err)
	}
	for _, raw := range set.Keys {
		var k struct {
			Kid string `json:"kid"`
		}
		if json.Unmarshal(raw, &k) == nil && k.Kid == f.pubKid {
			f.pubJWK = raw
		}
	}
	if f.pub == nil || f.pubJWK == nil {
		return fmt.Errorf("key %q is not in the JWK Set", f.pubKid)
	}
	return nil
}

// replacer substitutes the template values of the target.
func (f *Forger) replacer() *strings.Replacer {
	now := f.t.Now.Unix()
	str := func(name string) string {
		var s string
		json.Unmarshal(f.claims[name], &s)
		return s
	}
	aud := str("aud")
	if aud == "" {
		var many []string
		json.Unmarshal(f.claims["aud"], &many)
		aud = strings.Join(many, " ")
	}
	return strings.NewReplacer(
		"{{alg}}", f.t.Current.Algorithm,
		"{{kid}}", f.t.Current.ID,
		"{{other_alg}}", f.t.Other.Algorithm,
		"{{other_kid}}", f.t.Other.ID,
		"{{pub_kid}}", f.pubKid,
		"{{attacker_kid}}", AttackerKeyID,
		"{{attacker_jwk}}", string(f.attackerJWK),
		"{{attacker_x5c}}", base64.StdEncoding.EncodeToString(f.attackerCert),
		"{{attacker_url}}", f.t.AttackerURL,
		"{{iss}}", str("iss"),
		"{{aud}}", aud,
		"{{sub}}", str("sub"),
		"{{sid}}", str("sid"),
		"{{other_sub}}", f.t.OtherSubject,
		"{{now}}", strconv.FormatInt(now, 10),
		"{{past}}", strconv.FormatInt(now-3600, 10),
		"{{future}}", strconv.FormatInt(now+3600, 10),
		"{{long}}", strings.Repeat("A", longText),
		"{{medium}}", strings.Repeat("A", mediumText),
	)
}

// AttackerJWKS is the JWK Set the attacker's site serves, holding the key the
// attacker signs with.
func (f *Forger) AttackerJWKS() []byte {
	return []byte(`{"keys":[` + string(f.attackerJWK) + `]}`)
}

// AttackerCertPEM is the attacker's self-signed certificate, for x5u.
func (f *Forger) AttackerCertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.attackerCert})
}

// Forge returns the token c describes, or ErrNotApplicable. It never returns
// the genuine token.
func (f *Forger) Forge(c Case) (string, error) {
	if c.Token == TokenRefresh {
		return f.t.Refresh, nil
	}

	header := f.header
	if c.Header != "" {
		header = f.vars.Replace(c.Header)
	}
	payload, err := f.payload(c)
	if err != nil {
		return "", err
	}

	// Some encodings need the signed bytes to hold a character or a length they
	// may lack; an extra claim changes them until they do.
	for nonce := 0; nonce < 64; nonce++ {
		p := payload
		if nonce > 0 {
			if !strings.HasSuffix(p, "}") {
				break
			}
			p = strings.TrimSuffix(p, "}") + `,"nonce":` + strconv.Itoa(nonce) + "}"
		}
		tok, err := f.sign(c.Sign, header, p)
		if err != nil {
			return "", err
		}
		tok, ok := encode(c.Encode, tok)
		if !ok {
			continue
		}
		if tok == f.t.Access {
			return "", errors.New("recipe yields the genuine token")
		}
		return tok, nil
	}
	return "", fmt.Errorf("%w: encoding %s cannot change this token", ErrNotApplicable,
		c.Encode)
}

// payload returns the claims text of c.
func (f *Forger) payload(c Case) (string, error) {
	if c.Payload != "" {
		return f.vars.Replace(c.Payload), nil
	}

	claims := make(map[string]json.RawMessage, len(f.claims))
	for k, v := range f.claims {
		claims[k] = v
	}
	for _, k := range c.Drop {
		delete(claims, k)
	}
	for k, v := range c.Claims {
		raw := f.vars.Replace(v)
		if !json.Valid([]byte(raw)) {
			return "", fmt.Errorf("claim %s: %q is not JSON", k, raw)
		}
		claims[k] = json.RawMessage(raw)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}

	p := string(b)
	if c.Append != "" {
		p = strings.TrimSuffix(p, "}") + "," + f.vars.Replace(c.Append) + "}"
	}
	return p, nil
}

// sign returns the compact JWS of header and payload signed as mode says.
func (f *Forger) sign(mode, header, payload string) (string, error) {
	input := b64(header) + "." + b64(payload)
	if mode == SignOriginal {
		return input + "." + f.sig, nil
	} else if mode == SignNone {
		return input + ".", nil
	}

	var sig []byte
	var err error
	switch mode {
	case SignServer:
		sig, err = f.current.sign(input)
	case SignOther:
		sig, err = f.other.sign(input)
	case SignAttacker:
		sig, err = f.attacker.sign(input)
	case SignGarbage:
		sig = make([]byte, 64)
		rand.Read(sig)
	default:
		var secret []byte
		if secret, err = f.hmacSecret(mode); err == nil {
			sig = hmacSum(secret, input)
		}
	}
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// hmacSecret returns the key of an HMAC signing mode.
func (f *Forger) hmacSecret(mode string) ([]byte, error) {
	switch mode {
	case SignHMACEmpty:
		return []byte{}, nil
	case SignHMACAttackerOctet:
		if f.attacker.alg != token.HS256 {
			return nil, fmt.Errorf("%w: the attacker's key is not symmetric",
				ErrNotApplicable)
		}
		return f.attacker.key.([]byte), nil
	case SignHMACJWK:
		return f.pubJWK, nil
	case SignHMACJWKS:
		return f.t.JWKS, nil
	case SignHMACPKCS1PEM:
		rsaPub, ok := f.pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: the server has no RSA key", ErrNotApplicable)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY",
			Bytes: x509.MarshalPKCS1PublicKey(rsaPub)}), nil
	}

	der, err := x509.MarshalPKIXPublicKey(f.pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	switch mode {
	case SignHMACSPKIDER:
		return der, nil
	case SignHMACSPKIPEM:
		return pemText, nil
	case SignHMACSPKIPEMNoEOL:
		return []byte(strings.TrimSuffix(string(pemText), "\n")), nil
	}
	return nil, fmt.Errorf("unknown way of signing %q", mode)
}

// encode changes the compact form tok as mode says. It reports false when the
// change is impossible for these bytes, such as padding a segment whose length
// needs none.
func encode(mode, tok string) (string, bool) {
	if mode == "" {
		return tok, true
	}
	parts := strings.SplitN(tok, ".", 3)
	h, p, s := parts[0], parts[1], parts[2]

	switch mode {
	case EncodePadHeader:
		h, ok := pad(h)
		return h + "." + p + "." + s, ok
	case EncodePadPayload:
		p, ok := pad(p)
		return h + "." + p + "." + s, ok
	case EncodePadSignature:
		s, ok := pad(s)
		return h + "." + p + "." + s, ok
	case EncodeStdAlphabet:
		std := strings.NewReplacer("-", "+", "_", "/").Replace(tok)
		return std, std != tok
	case EncodeTrailingBitsSig:
		s, ok := setTrailingBit(s)
		return h + "." + p + "." + s, ok
	case EncodeTrailingBitsBody:
		p, ok := setTrailingBit(p)
		return h + "." + p + "." + s, ok
	case EncodeSpaceInSignature:
		return h + "." + p + "." + s[:len(s)/2] + " " + s[len(s)/2:], true
	case EncodeTabInPayload:
		return h + "." + p[:len(p)/2] + "\t" + p[len(p)/2:] + "." + s, true
	case EncodeTrailingDot:
		return tok + ".", true
	case EncodeJSONSerialized:
		b, _ := json.Marshal(map[string]string{"protected": h, "payload": p,
			"signature": s})
		return string(b), true
	}
	return tok, false
}

// pad adds the "=" padding of standard base64 to seg; false if it needs none.
func pad(seg string) (string, bool) {
	n := (4 - len(seg)%4) % 4
	return seg + strings.Repeat("=", n), n > 0
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// setTrailingBit sets the lowest of the unused bits of seg's last character,
// which a lax decoder ignores; false if seg has no unused bits.
func setTrailingBit(seg string) (string, bool) {
	if len(seg)%4 < 2 {
		return seg, false
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	if last < 0 || last&1 != 0 {
		return seg, false
	}
	return seg[:len(seg)-1] + string(alphabet[last|1]), true
}

func b64(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func hmacSum(secret []byte, input string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return m.Sum(nil)
}

// signer signs JWS input with one key, for its algorithm.
type signer struct {
	alg string
	key any // []byte for HS256, else a crypto.Signer
}

// serverSigner parses a stored key.
func serverSigner(k Key) (signer, error) {
	if k.Algorithm == token.HS256 {
		return signer{alg: k.Algorithm, key: k.Private}, nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(k.Private)
	if err != nil {
		return signer{}, fmt.Errorf("parse %s key: %w", k.Algorithm, err)
	}
	return signer{alg: k.Algorithm, key: priv}, nil
}

// generate makes a new key for alg.
func generate(alg string) (any, error) {
	switch alg {
	case token.HS256:
		secret := make([]byte, 32)
		rand.Read(secret)
		return secret, nil
	case token.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case token.RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	case token.EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// sign returns the JWS signature of input (RFC 7518 section 3, RFC 8037).
func (s signer) sign(input string) ([]byte, error) {
	digest := sha256.Sum256([]byte(input))
	switch key := s.key.(type) {
	case []byte:
		return hmacSum(key, input), nil
	case *ecdsa.PrivateKey:
		r, ss, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
		return sig, nil
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(key, []byte(input)), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", s.key)
}

// attackerJWK returns the public JWK of the attacker's key, or the whole key
// for HS256: an attacker who puts a key in the header gives it away anyway.
func attackerJWK(alg string, priv any) ([]byte, error) {
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]string{"kid": AttackerKeyID, "alg": alg, "use": "sig"}
	switch key := priv.(type) {
	case []byte:
		m["kty"], m["k"] = "oct", enc(key)
	case *ecdsa.PrivateKey:
		point, err := key.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("encode attacker key: %w", err)
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", enc(point[1:33]), enc(point[33:])
	case *rsa.PrivateKey:
		m["kty"], m["n"] = "RSA", enc(key.N.Bytes())
		m["e"] = enc(big.NewInt(int64(key.E)).Bytes())
	case ed25519.PrivateKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", enc(key.Public().(ed25519.PublicKey))
	default:
		return nil, fmt.Errorf("unsupported key type %T", priv)
	}
	return json.Marshal(m)
}
