// Package attacktest holds the token forgery corpus: crafted access tokens,
// written down as recipes in attacks.json, that tests turn into real tokens
// against a live server's keys and send to every place that checks a token.
// Every recipe must be refused; the tests say where and how.
//
// A recipe starts from a genuine access token of the server and changes its
// header, its claims, its signature or its encoding. Signing with the server's
// own key proves that a claim or header check refuses the token, not just the
// signature; signing with the attacker's key, with the server's public key as
// an HMAC secret or not at all is what an attacker can really do.
//
// Only tests import this package.
package attacktest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

//go:embed attacks.json
var corpus []byte

// Case is one recipe of the corpus. Header, the Claims values, Append and
// Payload are templates: each {{name}} in them is replaced by a value of the
// target (see Forger.vars).
type Case struct {
	// Name identifies the case in test output, in kebab-case.
	Name string `json:"name"`

	// Attack says what the token tries, and why it must fail.
	Attack string `json:"attack"`

	// Header is the JSON text of the JWS header; empty means the genuine
	// token's header, byte for byte.
	Header string `json:"header,omitempty"`

	// Claims sets claims of the genuine token, each to the JSON text given;
	// Drop removes claims. Append is added, raw, before the closing brace of
	// the claims object, so it can repeat a member.
	Claims map[string]string `json:"claims,omitempty"`
	Drop   []string          `json:"drop,omitempty"`
	Append string            `json:"append,omitempty"`

	// Payload, when set, is the payload's text, instead of the genuine claims.
	Payload string `json:"payload,omitempty"`

	// Sign says how the signature is made; see the Sign constants.
	Sign string `json:"sign"`

	// Encode, when set, changes the compact form once signed; see the Encode
	// constants.
	Encode string `json:"encode,omitempty"`

	// Token, when set, replaces the recipe by a token of another kind; see
	// the Token constants.
	Token string `json:"token,omitempty"`

	// ValidAt lists the checkers that rightly accept this token: it is a
	// legitimate credential of another kind for them (a refresh token at
	// simplejwt's verify endpoint, which answers for both kinds).
	ValidAt []string `json:"valid_at,omitempty"`
}

// Ways of signing a recipe.
const (
	SignServer   = "server"   // the server's current key
	SignOther    = "other"    // the server's other, older key
	SignAttacker = "attacker" // a key of the current algorithm the attacker made
	SignNone     = "none"     // an empty signature
	SignOriginal = "original" // the genuine token's signature, over new bytes
	SignGarbage  = "garbage"  // random bytes of a plausible length

	// HMAC-SHA256 keyed with the server's public key (the current key's, or the
	// other key's when the current one is HS256), as an attacker downloads it:
	// PEM in SubjectPublicKeyInfo or PKCS #1 form, with and without the final
	// newline; bare DER; the key's JWK as published; the whole JWK Set.
	SignHMACSPKIPEM       = "hmac-spki-pem"
	SignHMACSPKIPEMNoEOL  = "hmac-spki-pem-no-eol"
	SignHMACPKCS1PEM      = "hmac-pkcs1-pem"
	SignHMACSPKIDER       = "hmac-spki-der"
	SignHMACJWK           = "hmac-jwk"
	SignHMACJWKS          = "hmac-jwks"
	SignHMACEmpty         = "hmac-empty" // an empty key: what a kid of /dev/null reads
	SignHMACAttackerOctet = "hmac-attacker-oct"
)

// Changes made to the compact form after signing: "=" padding on a segment,
// the standard base64 alphabet ("+" and "/" for "-" and "_"), set trailing
// bits in the last character of a segment, white space inside a segment, a
// fourth segment, and the JSON serialization (RFC 7515 section 7.2.2).
const (
	EncodePadHeader        = "pad-header"
	EncodePadPayload       = "pad-payload"
	EncodePadSignature     = "pad-signature"
	EncodeStdAlphabet      = "std-alphabet"
	EncodeTrailingBitsSig  = "trailing-bits-signature"
	EncodeTrailingBitsBody = "trailing-bits-payload"
	EncodeSpaceInSignature = "space-in-signature"
	EncodeTabInPayload     = "tab-in-payload"
	EncodeTrailingDot      = "trailing-dot"
	EncodeJSONSerialized   = "json-serialization"
)

// Tokens of another kind than a JWS.
const (
	TokenRefresh = "refresh" // the genuine refresh token
)

// Checkers that may be named in Case.ValidAt.
const (
	CheckerSimpleJWTVerify = "simplejwt-verify"
)

// ErrNotApplicable means a recipe cannot be made for this target, such as an
// HMAC keyed with an RSA key's PKCS #1 form when the server has no RSA key.
var ErrNotApplicable = errors.New("attack does not apply to this target")

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Load returns the corpus, checked: every case has a unique kebab-case name,
// a description and a known way of signing, encoding and replacing.
func Load() ([]Case, error) {
	var cases []Case
	if err := json.Unmarshal(corpus, &cases); err != nil {
		return nil, fmt.Errorf("parse attacks.json: %w", err)
	}

	seen := map[string]bool{}
	for _, c := range cases {
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("attacks.json: case %q: %w", c.Name, err)
		} else if seen[c.Name] {
			return nil, fmt.Errorf("attacks.json: case %q appears twice", c.Name)
		}
		seen[c.Name] = true
	}
	return cases, nil
}

// check reports what is wrong with c, if anything.
func (c *Case) check() error {
	switch {
	case !kebab.MatchString(c.Name):
		return errors.New("name is not kebab-case")
	case c.Attack == "":
		return errors.New("attack is not described")
	case c.Token != "" && c.Token != TokenRefresh:
		return fmt.Errorf("unknown token kind %q", c.Token)
	case c.Token == "" && !knownSign[c.Sign]:
		return fmt.Errorf("unknown way of signing %q", c.Sign)
	case c.Encode != "" && !knownEncode[c.Encode]:
		return fmt.Errorf("unknown encoding %q", c.Encode)
	case c.Payload != "" && (len(c.Claims) > 0 || len(c.Drop) > 0 || c.Append != ""):
		return errors.New("payload replaces the claims; it cannot be combined with edits")
	}
	for _, v := range c.ValidAt {
		if v != CheckerSimpleJWTVerify {
			return fmt.Errorf("unknown checker %q", v)
		}
	}
	return nil
}

// ValidFor reports whether the case is a legitimate credential for checker.
func (c *Case) ValidFor(checker string) bool {
	for _, v := range c.ValidAt {
		if v == checker {
			return true
		}
	}
	return false
}

var knownSign = map[string]bool{
	SignServer: true, SignOther: true, SignAttacker: true, SignNone: true,
	SignOriginal: true, SignGarbage: true, SignHMACSPKIPEM: true,
	SignHMACSPKIPEMNoEOL: true, SignHMACPKCS1PEM: true, SignHMACSPKIDER: true,
	SignHMACJWK: true, SignHMACJWKS: true, SignHMACEmpty: true,
	SignHMACAttackerOctet: true,
}

var knownEncode = map[string]bool{
	EncodePadHeader: true, EncodePadPayload: true, EncodePadSignature: true,
	EncodeStdAlphabet: true, EncodeTrailingBitsSig: true, EncodeTrailingBitsBody: true,
	EncodeSpaceInSignature: true, EncodeTabInPayload: true, EncodeTrailingDot: true,
	EncodeJSONSerialized: true,
}
