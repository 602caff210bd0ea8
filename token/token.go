// Package token issues and verifies gatepass access tokens: JWTs per RFC 9068, signed
// with a narrow JWS profile. Only the header gatepass issues is accepted, only the
// configured algorithms are tried, and the expected header is compared byte for byte,
// following the advice of RFC 8725. The package is pure: it does no I/O and keeps no
// state beyond the keys it is given.
package token

import (
	"encoding/base64"

	"github.com/gatepass/gatepass"
)

// Signing algorithms, as named in the JWS "alg" header (RFC 7518 section 3.1, RFC 8037).
const (
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	HS256 = "HS256" // HMAC with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

// Algorithms lists the supported algorithms.
var Algorithms = []string{ES256, HS256, RS256, EdDSA}

// MaxTokenSize is the length in bytes above which a token is rejected unread. A
// gatepass token is well under 1 KiB; the cap bounds the work an attacker can cause.
const MaxTokenSize = 8 << 10

// accessTokenType is the "typ" header of every access token (RFC 9068 section 2.1).
const accessTokenType = "at+jwt"

// Verification errors. Each is a *gatepass.Error with code EINVALIDTOKEN and a
// message that is safe to show to a client, so callers can both test for a precise
// cause with errors.Is and map every one of them to a 401 with gatepass.ErrorCode.
var (
	// ErrMalformed means the token is not three canonical base64url segments of JSON.
	ErrMalformed = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token is malformed"}

	// ErrAlgorithm means the "alg" header is not allowed, or is not the algorithm of
	// the key named by "kid".
	ErrAlgorithm = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token algorithm is not allowed"}

	// ErrUnknownKey means the "kid" header is missing or names no known key.
	ErrUnknownKey = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token signing key is unknown"}

	// ErrType means the "typ" header is missing or is not "at+jwt".
	ErrType = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token type is not at+jwt"}

	// ErrHeader means the header holds parameters gatepass does not issue, such as
	// "crit" or "jku", or is otherwise not the exact header gatepass issues.
	ErrHeader = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token header is not accepted"}

	// ErrSignature means the signature does not verify.
	ErrSignature = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token signature is invalid"}

	// ErrExpired means the "exp" claim has passed, even allowing for leeway.
	ErrExpired = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token has expired"}

	// ErrNotYetValid means the "nbf" or "iat" claim is in the future beyond leeway.
	ErrNotYetValid = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token is not valid yet"}

	// ErrIssuer means the "iss" claim is not the configured issuer.
	ErrIssuer = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token issuer is not accepted"}

	// ErrAudience means the "aud" claim does not contain the configured audience.
	ErrAudience = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token audience is not accepted"}

	// ErrClaims means a required claim is missing, of the wrong type or out of range.
	ErrClaims = &gatepass.Error{Code: gatepass.EINVALIDTOKEN,
		Message: "token claims are missing or invalid"}
)

// supported reports whether alg is one of Algorithms. It does not read that variable,
// which a caller could change.
func supported(alg string) bool {
	switch alg {
	case ES256, HS256, RS256, EdDSA:
		return true
	}
	return false
}

// b64 is the encoding of every JWS segment: base64url without padding (RFC 7515
// section 2). Strict decoding rejects set trailing bits, so that each value has
// exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// isBase64URL reports whether c belongs to the base64url alphabet. The decoder
// alone is not enough: it silently skips CR and LF.
func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_'
}

// decodeSegment decodes one base64url value, accepting no character outside the
// alphabet.
func decodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return nil, base64.CorruptInputError(i)
		}
	}
	return b64.DecodeString(s)
}
