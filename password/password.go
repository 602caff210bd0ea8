// Package password hashes and verifies user passwords.
//
// New hashes are argon2id in PHC string form. Verify also accepts bcrypt and
// Django pbkdf2_sha256 hashes imported from other systems and reports them as
// needing a rehash, so accounts move to argon2id at their next sign-in.
package password

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/gatepass/gatepass"
	"golang.org/x/crypto/argon2"
)

// MaxLength is the longest password in bytes that Hash accepts. The limit
// bounds the work an unauthenticated caller can make the server do.
const MaxLength = 1024

// maxEncodedLen bounds the stored hash Verify will parse. Real hashes of every
// supported kind are far shorter.
const maxEncodedLen = 1024

// Errors returned by Hash, Verify and Validate. Each is a *gatepass.Error with
// code EINVALID and a message that holds neither a password nor a hash. Verify
// wraps the hash errors with the part that failed; use errors.Is to test them.
var (
	ErrTooShort = gatepass.FieldError("password",
		"password must be at least %d characters", MinLength)
	ErrTooLong = gatepass.FieldError("password",
		"password must be at most %d bytes", MaxLength)
	ErrNotUTF8 = gatepass.FieldError("password", "password must be valid UTF-8")

	ErrUnsupportedHash = gatepass.Errorf(gatepass.EINVALID,
		"password hash format is not supported")
	ErrMalformedHash = gatepass.Errorf(gatepass.EINVALID, "password hash is malformed")
	ErrHashLimits    = gatepass.Errorf(gatepass.EINVALID,
		"password hash parameters are outside the accepted limits")
)

// Hasher hashes and verifies passwords. Set its fields before first use; it is
// safe for concurrent use after that.
type Hasher struct {
	Time    uint32 // argon2id passes over memory
	Memory  uint32 // argon2id memory in KiB
	Threads uint8  // argon2id lanes
	KeyLen  uint32 // derived key length in bytes
	SaltLen int    // salt length in bytes

	// Rand supplies salts; nil means crypto/rand.
	Rand io.Reader

	// Every hash and verify holds a slot of sem while it computes. argon2id
	// allocates Memory KiB per call, so a burst of sign-ins must queue rather
	// than exhaust memory.
	maxConcurrent int
	semOnce       sync.Once
	sem           chan struct{}

	// onEnter and onLeave run just after a slot is taken and just before it is
	// given back. Only tests set them.
	onEnter, onLeave func()
}

// NewHasher returns a Hasher with the argon2id parameters of the OWASP Password
// Storage Cheat Sheet (m=19456 KiB, t=2, p=1) that runs at most maxConcurrent
// hashes at once; maxConcurrent <= 0 means twice the number of CPUs.
// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
func NewHasher(maxConcurrent int) *Hasher {
	return &Hasher{
		Time:          2,
		Memory:        19456,
		Threads:       1,
		KeyLen:        32,
		SaltLen:       16,
		maxConcurrent: maxConcurrent,
	}
}

// Hash returns the argon2id hash of password in PHC string form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, base64 without padding.
// It returns ErrTooLong for a password over MaxLength bytes.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}

	// A bad configuration is the server's fault, not the caller's, so the
	// error carries no gatepass code.
	p := h.params()
	if err := p.check(int(h.KeyLen), h.SaltLen); err != nil {
		return "", fmt.Errorf("hasher parameters: %w", err)
	}

	salt := make([]byte, h.SaltLen)
	if _, err := io.ReadFull(h.rand(), salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}

	var key []byte
	err := h.run(ctx, func() error {
		key = argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, h.KeyLen)
		return nil
	})
	if err != nil {
		return "", err
	}
	return encodeArgon2id(p, salt, key), nil
}

// Verify reports whether password matches encoded, a hash in one of the formats
// below, and whether the caller should replace it with Hash(password):
//   - argon2id in PHC form, any version 19 parameters within the limits;
//     needsRehash when they differ from h's;
//   - bcrypt $2a$, $2b$ or $2y$; needsRehash always;
//   - Django pbkdf2_sha256$<iterations>$<salt>$<base64 key>; needsRehash always.
//
// A wrong password gives ok=false and a nil error; needsRehash is only ever
// true with ok. A hash Verify cannot use gives an error wrapping
// ErrUnsupportedHash, ErrMalformedHash or ErrHashLimits. Limits on the stored
// parameters keep a crafted imported hash from tying up the server.
func (h *Hasher) Verify(
	ctx context.Context, password, encoded string,
) (ok, needsRehash bool, err error) {
	s, err := parse(encoded)
	if err != nil {
		return false, false, err
	}

	// Passwords over MaxLength never match, even an imported hash made
	// elsewhere. Hash the first MaxLength bytes anyway: the answer then takes
	// as long as any wrong one.
	tooLong := len(password) > MaxLength
	if tooLong {
		password = password[:MaxLength]
	}

	var match bool
	err = h.run(ctx, func() (err error) {
		match, err = s.verify(password)
		return err
	})
	if err != nil || !match || tooLong {
		return false, false, err
	}
	return true, s.outdated(h), nil
}

// VerifyDummy does the work of verifying password against an argon2id hash
// with h's parameters and discards the result. Call it when the user does not
// exist so that the answer takes as long as for a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummyHash())
}

// dummyHash returns an argon2id hash with h's parameters, an all-zero salt and
// an all-zero key that no real password will derive. Building it costs nothing next to
// the verify, so it is built per call and always follows h's current fields.
func (h *Hasher) dummyHash() string {
	p := h.params()
	if p.check(int(h.KeyLen), h.SaltLen) != nil {
		return ""
	}
	return encodeArgon2id(p, make([]byte, h.SaltLen), make([]byte, h.KeyLen))
}

// run calls fn while holding a hashing slot. Waiting for the slot ends with
// ctx.
func (h *Hasher) run(ctx context.Context, fn func() error) error {
	h.semOnce.Do(h.initSem)

	// Check ctx first: select picks at random when a slot is free too.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wait for hashing slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for hashing slot: %w", ctx.Err())
	}

	defer func() {
		if h.onLeave != nil {
			h.onLeave()
		}
		<-h.sem
	}()
	if h.onEnter != nil {
		h.onEnter()
	}
	return fn()
}

func (h *Hasher) initSem() {
	n := h.maxConcurrent
	if n <= 0 {
		n = 2 * runtime.NumCPU()
	}
	h.sem = make(chan struct{}, n)
}

func (h *Hasher) params() argonParams {
	return argonParams{memory: h.Memory, time: h.Time, threads: uint32(h.Threads)}
}

func (h *Hasher) rand() io.Reader {
	if h.Rand == nil {
		return rand.Reader
	}
	return h.Rand
}

// stored is a parsed hash.
type stored interface {
	// verify reports whether password derives the stored key.
	verify(password string) (bool, error)

	// outdated reports whether the hash should be replaced by h.Hash.
	outdated(h *Hasher) bool
}

// parse recognises the format of encoded and parses it.
func parse(encoded string) (stored, error) {
	switch {
	case encoded == "":
		return nil, fmt.Errorf("empty hash: %w", ErrMalformedHash)
	case len(encoded) > maxEncodedLen:
		return nil, fmt.Errorf("hash too long: %w", ErrMalformedHash)
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, "$2a$"),
		strings.HasPrefix(encoded, "$2b$"),
		strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return parseDjango(encoded)
	}
	return nil, ErrUnsupportedHash
}

// CheckHash reports whether encoded is a hash Verify can use: argon2id in PHC form,
// bcrypt, or Django's pbkdf2_sha256, well formed and within the accepted limits.
// Importers call it so that no account is stored with a hash nobody can sign in
// with.
func CheckHash(encoded string) error {
	_, err := parse(encoded)
	return err
}
