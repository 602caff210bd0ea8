package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// maxBcryptCost caps the cost of a stored bcrypt hash. Cost 16 (2^16 rounds)
// takes a few seconds; the format allows 31, which would hold a CPU for days.
const maxBcryptCost = 16

// maxPBKDF2Iterations caps the iterations of a stored Django hash. Django 5.2
// writes 1,000,000; ten million take a few seconds.
const maxPBKDF2Iterations = 10_000_000

// bcryptAlphabet is the base64 alphabet of bcrypt salts and keys.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// bcryptHash is a bcrypt hash that passed parseBcrypt.
type bcryptHash string

// parseBcrypt checks $2b$<cost>$<22 salt chars><31 key chars>. The bcrypt
// package parses it again; checking here first keeps its looser parser from
// seeing odd input and lets the cost be capped before any work is done.
func parseBcrypt(encoded string) (bcryptHash, error) {
	if len(encoded) != 60 || encoded[6] != '$' {
		return "", fmt.Errorf("bcrypt length: %w", ErrMalformedHash)
	}

	cost, ok := parseDecimal(strings.TrimPrefix(encoded[4:6], "0"), "")
	if !ok {
		return "", fmt.Errorf("bcrypt cost: %w", ErrMalformedHash)
	} else if int(cost) < bcrypt.MinCost || cost > maxBcryptCost {
		return "", fmt.Errorf("bcrypt cost outside %d to %d: %w",
			bcrypt.MinCost, maxBcryptCost, ErrHashLimits)
	}

	for _, c := range []byte(encoded[7:]) {
		if strings.IndexByte(bcryptAlphabet, c) < 0 {
			return "", fmt.Errorf("bcrypt salt or key: %w", ErrMalformedHash)
		}
	}
	return bcryptHash(encoded), nil
}

func (b bcryptHash) verify(password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(b), []byte(password))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("bcrypt compare: %w", err)
	}
	return true, nil
}

func (b bcryptHash) outdated(*Hasher) bool { return true }

// djangoHash is a parsed Django pbkdf2_sha256 hash.
type djangoHash struct {
	iterations int
	salt       string
	key        []byte
}

// parseDjango parses pbkdf2_sha256$<iterations>$<salt>$<key>, the format of
// Django's PBKDF2PasswordHasher: the salt is text and the key is the 32-byte
// PBKDF2-HMAC-SHA256 output in padded standard base64.
func parseDjango(encoded string) (*djangoHash, error) {
	f := strings.Split(encoded, "$")
	if len(f) != 4 {
		return nil, fmt.Errorf("pbkdf2_sha256 fields: %w", ErrMalformedHash)
	}

	n, ok := parseDecimal(f[1], "")
	if !ok {
		return nil, fmt.Errorf("pbkdf2_sha256 iterations: %w", ErrMalformedHash)
	} else if n < 1 || n > maxPBKDF2Iterations {
		return nil, fmt.Errorf("pbkdf2_sha256 iterations outside 1 to %d: %w",
			maxPBKDF2Iterations, ErrHashLimits)
	}

	if f[2] == "" {
		return nil, fmt.Errorf("pbkdf2_sha256 salt: %w", ErrMalformedHash)
	}
	key, err := decodeBase64(base64.StdEncoding.Strict(), f[3])
	if err != nil || len(key) != sha256.Size {
		return nil, fmt.Errorf("pbkdf2_sha256 key: %w", ErrMalformedHash)
	}
	return &djangoHash{iterations: int(n), salt: f[2], key: key}, nil
}

func (d *djangoHash) verify(password string) (bool, error) {
	key, err := pbkdf2.Key(sha256.New, password, []byte(d.salt), d.iterations, len(d.key))
	if err != nil {
		return false, fmt.Errorf("derive pbkdf2 key: %w", err)
	}
	return subtle.ConstantTimeCompare(key, d.key) == 1, nil
}

func (d *djangoHash) outdated(*Hasher) bool { return true }
