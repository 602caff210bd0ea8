package password

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Limits on argon2id parameters, both for h's own and for stored hashes. They
// admit the OWASP and RFC 9106 settings up to 1 GiB and refuse a crafted
// imported hash that would hold a CPU for minutes or allocate more memory than
// the server has. The work limit is four passes over 1 GiB, a few seconds.
const (
	maxArgonMemory = 1 << 20 // KiB
	maxArgonTime   = 100
	maxArgonWork   = 4 * maxArgonMemory // memory × time, in KiB
	minArgonSalt   = 8                  // RFC 9106 section 3.1
	maxArgonSalt   = 256
	minArgonKey    = 16
	maxArgonKey    = 256
)

// b64 is the base64 of PHC strings: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()

// argonParams are the cost parameters of an argon2id hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint32
}

// check returns an error naming the first parameter outside the limits. The
// error has no gatepass code: callers add one when the parameters are stored.
func (p argonParams) check(keyLen, saltLen int) error {
	switch {
	case p.time < 1:
		return errors.New("time below 1")
	case p.time > maxArgonTime:
		return fmt.Errorf("time above %d", maxArgonTime)
	case p.threads < 1 || p.threads > 255:
		return errors.New("threads outside 1 to 255")
	case p.memory < 8*p.threads:
		return errors.New("memory below 8 KiB per thread")
	case p.memory > maxArgonMemory:
		return fmt.Errorf("memory above %d KiB", maxArgonMemory)
	case uint64(p.memory)*uint64(p.time) > maxArgonWork:
		return fmt.Errorf("memory times time above %d KiB", maxArgonWork)
	case keyLen < minArgonKey || keyLen > maxArgonKey:
		return fmt.Errorf("key length outside %d to %d bytes", minArgonKey, maxArgonKey)
	case saltLen < minArgonSalt || saltLen > maxArgonSalt:
		return fmt.Errorf("salt length outside %d to %d bytes", minArgonSalt, maxArgonSalt)
	}
	return nil
}

// argonHash is a parsed argon2id PHC string.
type argonHash struct {
	params    argonParams
	salt, key []byte
}

// encodeArgon2id formats an argon2id hash as a PHC string, the form the
// reference implementation and libraries such as passlib write.
func encodeArgon2id(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parseArgon2id parses $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func parseArgon2id(encoded string) (*argonHash, error) {
	// The leading "$" makes the first of the six fields empty.
	f := strings.Split(encoded, "$")
	if len(f) == 5 && strings.HasPrefix(f[2], "m=") {
		return nil, fmt.Errorf("argon2id version 16: %w", ErrUnsupportedHash)
	} else if len(f) != 6 {
		return nil, fmt.Errorf("argon2id fields: %w", ErrMalformedHash)
	}

	if v, ok := strings.CutPrefix(f[2], "v="); !ok {
		return nil, fmt.Errorf("argon2id version: %w", ErrMalformedHash)
	} else if v != strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("argon2id version: %w", ErrUnsupportedHash)
	}

	p, err := parseArgonParams(f[3])
	if err != nil {
		return nil, err
	}

	salt, err := decodeBase64(b64, f[4])
	if err != nil {
		return nil, fmt.Errorf("argon2id salt: %w", ErrMalformedHash)
	}
	key, err := decodeBase64(b64, f[5])
	if err != nil {
		return nil, fmt.Errorf("argon2id key: %w", ErrMalformedHash)
	}

	if err := p.check(len(key), len(salt)); err != nil {
		return nil, fmt.Errorf("argon2id parameters: %w: %w", err, ErrHashLimits)
	}
	return &argonHash{params: p, salt: salt, key: key}, nil
}

// parseArgonParams parses "m=19456,t=2,p=1". Like the reference decoder it
// wants the three in this order and nothing else.
func parseArgonParams(s string) (argonParams, error) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return argonParams{}, fmt.Errorf("argon2id parameters: %w", ErrMalformedHash)
	}

	m, okM := parseDecimal(f[0], "m=")
	t, okT := parseDecimal(f[1], "t=")
	p, okP := parseDecimal(f[2], "p=")
	if !okM || !okT || !okP {
		return argonParams{}, fmt.Errorf("argon2id parameters: %w", ErrMalformedHash)
	}
	return argonParams{memory: m, time: t, threads: p}, nil
}

func (a *argonHash) verify(password string) (bool, error) {
	key := argon2.IDKey([]byte(password), a.salt, a.params.time, a.params.memory,
		uint8(a.params.threads), uint32(len(a.key)))
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}

func (a *argonHash) outdated(h *Hasher) bool {
	return a.params != h.params() || len(a.key) != int(h.KeyLen) || len(a.salt) != h.SaltLen
}

// parseDecimal parses prefix followed by a decimal that fits in 32 bits,
// written without sign, spaces or leading zeros.
func parseDecimal(s, prefix string) (uint32, bool) {
	s, ok := strings.CutPrefix(s, prefix)
	if !ok || s == "" || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}

	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// decodeBase64 decodes s with enc, refusing the line breaks that
// encoding/base64 otherwise skips.
func decodeBase64(enc *base64.Encoding, s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	return enc.DecodeString(s)
}
