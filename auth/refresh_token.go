package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// encoding is the alphabet of refresh tokens, session ids and token ids: URL-safe,
// unpadded base64.
var encoding = base64.RawURLEncoding.Strict()

const (
	// refreshTokenBytes is the entropy of a refresh token: 256 bits.
	refreshTokenBytes = 32
	// refreshTokenLen is the encoded length of a refresh token.
	refreshTokenLen = 43

	// refreshSecretName names the server secret that derives successor tokens.
	refreshSecretName = "refresh_successor_v1"

	// maxReplayWalk bounds how many rotations a replayed token inside the reuse
	// interval is followed forward to reach the session's current token.
	maxReplayWalk = 32
)

// wellFormedRefreshToken reports whether tok could be a refresh token we issued, so
// that garbage never reaches the database.
func wellFormedRefreshToken(tok string) bool {
	if len(tok) != refreshTokenLen {
		return false
	}
	_, err := encoding.DecodeString(tok)
	return err == nil
}

// hashRefreshToken is the only form in which a refresh token is stored.
func hashRefreshToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// successor derives the token that replaces tok on rotation. Deriving it, rather
// than drawing it at random, lets a token replayed inside the reuse interval get the
// same successor back without storing any token in clear. The derivation is keyed
// with a server secret, so holding an old token is not enough to compute its
// successor, and the database's SHA-256 hashes do not reveal either.
func successor(secret []byte, tok string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(tok))
	return encoding.EncodeToString(mac.Sum(nil))
}
