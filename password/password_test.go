package password_test

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Vectors from the argon2 reference implementation's tests
// (P-H-C/phc-winner-argon2 src/test.c, argon2id, version 19): password
// "password", salt "somesalt", 32-byte key.
const (
	refArgon2idM256P1 = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" +
		"nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	refArgon2idM256P2 = "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$" +
		"bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
	refArgon2idM65536 = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$" +
		"CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
)

// A vector from the OpenBSD bcrypt tests, also used by jBCrypt: password "abc".
const refBcrypt = "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"

// Vectors from Django's own tests (tests/auth_tests/test_hashers.py): the 1.4
// one for "letmein" and the later one for "lètmein".
const (
	refDjango14 = "pbkdf2_sha256$10000$seasalt$FQCNpiZpTb0zub+HBsH6TOwyRxJ19FwvjbweatNmK/Y="
	refDjango   = "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="
)

// ourDjango was computed once the way Django does, PBKDF2-HMAC-SHA256 with
// crypto/pbkdf2, for "correct horse battery staple"; it pins the format.
const ourDjango = "pbkdf2_sha256$2000$gPq7Zr2mXk4sLw9Tb1Nc0v$" +
	"MvHcMMZVvbPILFq6i9VpMph9TwaW9sjA9eIl09Pfkoc="

// phcPattern is the shape of a hash from a Hasher with cheap parameters.
var phcPattern = regexp.MustCompile(
	`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

// NewCheapHasher returns a Hasher whose hashes take microseconds, for tests
// where the parameters do not matter.
func NewCheapHasher(maxConcurrent int) *password.Hasher {
	h := password.NewHasher(maxConcurrent)
	h.Time, h.Memory = 1, 64
	return h
}

// MustHash hashes pw with h.
func MustHash(tb testing.TB, h *password.Hasher, pw string) string {
	tb.Helper()
	encoded, err := h.Hash(context.Background(), pw)
	if err != nil {
		tb.Fatal(err)
	}
	return encoded
}

// MustBcrypt returns a cheap bcrypt hash of pw whose "$2a$" is replaced by
// prefix. The three prefixes name the same algorithm for passwords this short.
func MustBcrypt(tb testing.TB, pw, prefix string) string {
	tb.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return prefix + strings.TrimPrefix(string(b), "$2a$")
}

// MustDjango assembles a Django pbkdf2_sha256 hash of pw.
func MustDjango(tb testing.TB, pw, salt string, iterations int) string {
	tb.Helper()
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iterations, sha256.Size)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s",
		iterations, salt, base64.StdEncoding.EncodeToString(key))
}

// HandArgon2id assembles a PHC string from argon2.IDKey directly.
func HandArgon2id(pw, salt string, time, memory uint32, threads uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(pw), []byte(salt), time, memory, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", memory, time, threads,
		base64.RawStdEncoding.EncodeToString([]byte(salt)),
		base64.RawStdEncoding.EncodeToString(key))
}

func TestNewHasher(t *testing.T) {
	h := password.NewHasher(0)

	// OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
	if h.Memory != 19456 || h.Time != 2 || h.Threads != 1 {
		t.Errorf("got m=%d,t=%d,p=%d, want m=19456,t=2,p=1", h.Memory, h.Time, h.Threads)
	}
	if h.KeyLen != 32 || h.SaltLen != 16 {
		t.Errorf("got KeyLen %d, SaltLen %d, want 32, 16", h.KeyLen, h.SaltLen)
	}

	encoded := MustHash(t, h, "correct horse")
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(encoded, want) {
		t.Errorf("got prefix of %q, want %q", encoded, want)
	}
	ok, rehash, err := h.Verify(context.Background(), "correct horse", encoded)
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestNewHasher_maxConcurrent(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
		want int
	}{
		{name: "explicit", n: 3, want: 3},
		{name: "zero-means-default", n: 0, want: 2 * runtime.NumCPU()},
		{name: "negative-means-default", n: -1, want: 2 * runtime.NumCPU()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := password.MaxConcurrent(password.NewHasher(tt.n)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestHasher_Hash(t *testing.T) {
	ctx := context.Background()
	h := NewCheapHasher(0)

	first := MustHash(t, h, "correct horse")
	if !phcPattern.MatchString(first) {
		t.Errorf("got %q, want it to match %v", first, phcPattern)
	}
	if second := MustHash(t, h, "correct horse"); second == first {
		t.Error("two hashes of one password are equal; want distinct salts")
	}

	ok, rehash, err := h.Verify(ctx, "correct horse", first)
	if !ok || rehash || err != nil {
		t.Errorf("right password: got %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, "correct horsf", first)
	if ok || rehash || err != nil {
		t.Errorf("wrong password: got %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

// TestHasher_Hash_phc checks Hash against a PHC string assembled by hand from
// argon2.IDKey with the same salt.
func TestHasher_Hash_phc(t *testing.T) {
	const pw, salt = "hunter2 hunter2", "0123456789abcdef"
	h := NewCheapHasher(0)
	h.Rand = bytes.NewReader([]byte(salt))

	got := MustHash(t, h, pw)
	if want := HandArgon2id(pw, salt, 1, 64, 1, 32); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHasher_Hash_errors(t *testing.T) {
	ctx := context.Background()

	t.Run("too-long", func(t *testing.T) {
		_, err := NewCheapHasher(0).Hash(ctx, strings.Repeat("a", password.MaxLength+1))
		if !errors.Is(err, password.ErrTooLong) {
			t.Errorf("got %v, want ErrTooLong", err)
		} else if code := gatepass.ErrorCode(err); code != gatepass.EINVALID {
			t.Errorf("got code %q, want %q", code, gatepass.EINVALID)
		}
	})

	t.Run("rand-fails", func(t *testing.T) {
		h := NewCheapHasher(0)
		h.Rand = iotest.ErrReader(errors.New("no entropy"))
		if _, err := h.Hash(ctx, "correct horse"); err == nil {
			t.Error("got nil error, want one")
		}
	})

	// A misconfigured Hasher is the server's fault: no code, so internal.
	t.Run("zero-hasher", func(t *testing.T) {
		var h password.Hasher
		_, err := h.Hash(ctx, "correct horse")
		if err == nil {
			t.Fatal("got nil error, want one")
		} else if code := gatepass.ErrorCode(err); code != gatepass.EINTERNAL {
			t.Errorf("got code %q, want %q", code, gatepass.EINTERNAL)
		}
	})

	t.Run("hostile-parameters", func(t *testing.T) {
		h := NewCheapHasher(0)
		h.Memory = 1 << 21
		if _, err := h.Hash(ctx, "correct horse"); err == nil {
			t.Error("got nil error, want one")
		}
	})
}

// TestHasher_Verify_vectors verifies hashes written by other implementations
// and hashes assembled by hand.
func TestHasher_Verify_vectors(t *testing.T) {
	h := password.NewHasher(0)
	for _, tt := range []struct {
		name     string
		password string
		encoded  string
		want     bool
	}{
		{name: "argon2-reference-p1", password: "password", encoded: refArgon2idM256P1, want: true},
		{name: "argon2-reference-p2", password: "password", encoded: refArgon2idM256P2, want: true},
		{
			name:     "argon2-reference-64mib",
			password: "password",
			encoded:  refArgon2idM65536,
			want:     true,
		},
		{name: "argon2-reference-wrong", password: "passwore", encoded: refArgon2idM256P1},
		{
			name:     "argon2-by-hand",
			password: "hunter2 hunter2",
			encoded:  HandArgon2id("hunter2 hunter2", "0123456789abcdef", 3, 256, 2, 24),
			want:     true,
		},
		{
			name:     "argon2-by-hand-wrong",
			password: "hunter2 hunter3",
			encoded:  HandArgon2id("hunter2 hunter2", "0123456789abcdef", 3, 256, 2, 24),
		},
		{name: "bcrypt-openbsd", password: "abc", encoded: refBcrypt, want: true},
		{name: "bcrypt-openbsd-wrong", password: "abd", encoded: refBcrypt},
		{name: "django-1.4", password: "letmein", encoded: refDjango14, want: true},
		{name: "django", password: "lètmein", encoded: refDjango, want: true},
		{name: "django-wrong", password: "lètmeinz", encoded: refDjango},
		{
			name:     "django-computed",
			password: "correct horse battery staple",
			encoded:  ourDjango,
			want:     true,
		},
		{
			name:     "django-computed-wrong",
			password: "correct horse battery stapler",
			encoded:  ourDjango,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tt.password, tt.encoded)
			if err != nil {
				t.Fatal(err)
			}
			// None of these uses h's parameters, so every match needs a rehash.
			if ok != tt.want || rehash != tt.want {
				t.Errorf("got ok=%v needsRehash=%v, want both %v", ok, rehash, tt.want)
			}
		})
	}
}

func TestHasher_Verify_needsRehash(t *testing.T) {
	const pw = "correct horse"
	h := password.NewHasher(0)
	h.Time, h.Memory = 2, 128

	// other returns a Hasher with h's parameters changed by fn.
	other := func(fn func(*password.Hasher)) *password.Hasher {
		o := password.NewHasher(0)
		o.Time, o.Memory = h.Time, h.Memory
		fn(o)
		return o
	}

	for _, tt := range []struct {
		name    string
		encoded string
		want    bool
	}{
		{name: "current-parameters", encoded: MustHash(t, h, pw)},
		{
			name:    "fewer-passes",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.Time = 1 }), pw),
			want:    true,
		},
		{
			name:    "less-memory",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.Memory = 64 }), pw),
			want:    true,
		},
		{
			name:    "more-memory",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.Memory = 256 }), pw),
			want:    true,
		},
		{
			name:    "more-threads",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.Threads = 2 }), pw),
			want:    true,
		},
		{
			name:    "shorter-key",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.KeyLen = 16 }), pw),
			want:    true,
		},
		{
			name:    "shorter-salt",
			encoded: MustHash(t, other(func(o *password.Hasher) { o.SaltLen = 8 }), pw),
			want:    true,
		},
		{name: "bcrypt-2a", encoded: MustBcrypt(t, pw, "$2a$"), want: true},
		{name: "bcrypt-2b", encoded: MustBcrypt(t, pw, "$2b$"), want: true},
		{name: "bcrypt-2y", encoded: MustBcrypt(t, pw, "$2y$"), want: true},
		{name: "django", encoded: MustDjango(t, pw, "Xq3v9Lw2Pz8K", 1000), want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ok, rehash, err := h.Verify(ctx, pw, tt.encoded)
			if !ok || err != nil {
				t.Fatalf("got ok=%v err=%v, want true, nil", ok, err)
			} else if rehash != tt.want {
				t.Errorf("got needsRehash=%v, want %v", rehash, tt.want)
			}

			// A wrong password never asks for a rehash.
			ok, rehash, err = h.Verify(ctx, pw+"!", tt.encoded)
			if ok || rehash || err != nil {
				t.Errorf("wrong password: got %v, %v, %v; want false, false, nil",
					ok, rehash, err)
			}
		})
	}
}

// TestHasher_Verify_malformed feeds Verify hashes it must refuse. Hostile
// parameters would take minutes or gigabytes if computed, so the test only
// finishes if they are refused before any work.
func TestHasher_Verify_malformed(t *testing.T) {
	const (
		salt   = "c29tZXNhbHQ"                                 // "somesalt"
		key    = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" // 32 bytes
		bsalt  = "If6bvum7DFjUnE9p2uDeDu"
		bkey   = "0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"
		djsalt = "seasalt"
		djkey  = "CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="
	)
	argon := func(params string) string {
		return "$argon2id$v=19$" + params + "$" + salt + "$" + key
	}

	for _, tt := range []struct {
		name    string
		encoded string
		want    error
	}{
		{name: "empty", encoded: "", want: password.ErrMalformedHash},
		{name: "plain-text", encoded: "hunter2", want: password.ErrUnsupportedHash},
		{name: "too-long", encoded: argon("m=256,t=2,p=1") + strings.Repeat("A", 1024),
			want: password.ErrMalformedHash},

		{name: "argon2i", encoded: "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key,
			want: password.ErrUnsupportedHash},
		{name: "argon2d", encoded: "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key,
			want: password.ErrUnsupportedHash},
		{name: "argon2id-no-version", encoded: "$argon2id$m=256,t=2,p=1$" + salt + "$" + key,
			want: password.ErrUnsupportedHash},
		{name: "argon2id-version-16",
			encoded: "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key,
			want:    password.ErrUnsupportedHash},
		{name: "argon2id-version-garbled",
			encoded: "$argon2id$x=19$m=256,t=2,p=1$" + salt + "$" + key,
			want:    password.ErrMalformedHash},
		{name: "argon2id-no-key", encoded: "$argon2id$v=19$m=256,t=2,p=1$" + salt,
			want: password.ErrMalformedHash},
		{name: "argon2id-extra-field", encoded: argon("m=256,t=2,p=1") + "$",
			want: password.ErrMalformedHash},
		{name: "argon2id-params-order", encoded: argon("t=2,m=256,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-missing", encoded: argon("m=256,t=2"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-extra", encoded: argon("m=256,t=2,p=1,keyid=a"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-empty", encoded: argon("m=,t=2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-leading-zero", encoded: argon("m=0256,t=2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-negative", encoded: argon("m=256,t=-2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-plus-sign", encoded: argon("m=256,t=+2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-space", encoded: argon("m=256, t=2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-params-overflow", encoded: argon("m=4294967296,t=2,p=1"),
			want: password.ErrMalformedHash},
		{name: "argon2id-salt-padded",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$" + salt + "=$" + key,
			want:    password.ErrMalformedHash},
		{name: "argon2id-salt-not-base64",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$c29t*XNhbHQ$" + key,
			want:    password.ErrMalformedHash},
		{name: "argon2id-salt-line-break",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$c29tZX\nNhbHQ$" + key,
			want:    password.ErrMalformedHash},
		{name: "argon2id-key-url-alphabet",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" +
				strings.ReplaceAll(key, "/", "_"),
			want: password.ErrMalformedHash},
		{name: "argon2id-salt-too-short",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$" + key,
			want:    password.ErrHashLimits},
		{name: "argon2id-key-too-short",
			encoded: "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$c29tZXNhbHQ",
			want:    password.ErrHashLimits},

		{name: "argon2id-time-zero", encoded: argon("m=256,t=0,p=1"),
			want: password.ErrHashLimits},
		{name: "argon2id-time-hostile", encoded: argon("m=256,t=101,p=1"),
			want: password.ErrHashLimits},
		{name: "argon2id-threads-zero", encoded: argon("m=256,t=2,p=0"),
			want: password.ErrHashLimits},
		{name: "argon2id-threads-hostile", encoded: argon("m=4096,t=2,p=256"),
			want: password.ErrHashLimits},
		{name: "argon2id-memory-below-threads", encoded: argon("m=8,t=2,p=2"),
			want: password.ErrHashLimits},
		{name: "argon2id-memory-hostile", encoded: argon("m=2097152,t=1,p=1"),
			want: password.ErrHashLimits},
		{name: "argon2id-memory-max-uint32", encoded: argon("m=4294967295,t=1,p=1"),
			want: password.ErrHashLimits},
		{name: "argon2id-work-hostile", encoded: argon("m=1048576,t=5,p=1"),
			want: password.ErrHashLimits},

		{name: "bcrypt-2", encoded: "$2$06$" + bsalt + bkey, want: password.ErrUnsupportedHash},
		{name: "bcrypt-2x", encoded: "$2x$06$" + bsalt + bkey,
			want: password.ErrUnsupportedHash},
		{name: "bcrypt-truncated", encoded: "$2a$06$" + bsalt + bkey[1:],
			want: password.ErrMalformedHash},
		{name: "bcrypt-extra-char", encoded: "$2a$06$" + bsalt + bkey + "a",
			want: password.ErrMalformedHash},
		{name: "bcrypt-no-separator", encoded: "$2a$06x" + bsalt + bkey,
			want: password.ErrMalformedHash},
		{name: "bcrypt-cost-not-digits", encoded: "$2a$x6$" + bsalt + bkey,
			want: password.ErrMalformedHash},
		{name: "bcrypt-cost-sign", encoded: "$2a$-6$" + bsalt + bkey,
			want: password.ErrMalformedHash},
		{name: "bcrypt-bad-char", encoded: "$2a$06$" + bsalt + "*" + bkey[1:],
			want: password.ErrMalformedHash},
		{name: "bcrypt-cost-too-low", encoded: "$2a$03$" + bsalt + bkey,
			want: password.ErrHashLimits},
		{name: "bcrypt-cost-hostile", encoded: "$2a$17$" + bsalt + bkey,
			want: password.ErrHashLimits},
		{name: "bcrypt-cost-max", encoded: "$2b$31$" + bsalt + bkey,
			want: password.ErrHashLimits},

		{name: "django-sha1", encoded: "pbkdf2_sha1$10000$" + djsalt + "$" + djkey,
			want: password.ErrUnsupportedHash},
		{name: "django-no-key", encoded: "pbkdf2_sha256$10000$" + djsalt,
			want: password.ErrMalformedHash},
		{name: "django-extra-field", encoded: "pbkdf2_sha256$10000$" + djsalt + "$" + djkey + "$",
			want: password.ErrMalformedHash},
		{name: "django-iterations-word", encoded: "pbkdf2_sha256$many$" + djsalt + "$" + djkey,
			want: password.ErrMalformedHash},
		{name: "django-iterations-overflow",
			encoded: "pbkdf2_sha256$99999999999999999999$" + djsalt + "$" + djkey,
			want:    password.ErrMalformedHash},
		{name: "django-empty-salt", encoded: "pbkdf2_sha256$10000$$" + djkey,
			want: password.ErrMalformedHash},
		{name: "django-key-unpadded",
			encoded: "pbkdf2_sha256$10000$" + djsalt + "$" + strings.TrimSuffix(djkey, "="),
			want:    password.ErrMalformedHash},
		{name: "django-key-short", encoded: "pbkdf2_sha256$10000$" + djsalt + "$c29tZXNhbHQ=",
			want: password.ErrMalformedHash},
		{name: "django-iterations-zero", encoded: "pbkdf2_sha256$0$" + djsalt + "$" + djkey,
			want: password.ErrHashLimits},
		{name: "django-iterations-hostile",
			encoded: "pbkdf2_sha256$10000001$" + djsalt + "$" + djkey,
			want:    password.ErrHashLimits},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := password.NewHasher(0)
			ok, rehash, err := h.Verify(context.Background(), "password", tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if ok || rehash {
				t.Errorf("got ok=%v needsRehash=%v, want both false", ok, rehash)
			}
			if code := gatepass.ErrorCode(err); code != gatepass.EINVALID {
				t.Errorf("got code %q, want %q", code, gatepass.EINVALID)
			}

			// The message must not quote the hash or any part of it.
			msg := err.Error()
			if strings.Contains(msg, "$") ||
				(tt.encoded != "" && strings.Contains(msg, tt.encoded)) {
				t.Errorf("error %q quotes the hash", msg)
			}
		})
	}
}

// FuzzHasher_Verify checks that no stored hash makes Verify panic or answer
// both a match and an error.
func FuzzHasher_Verify(f *testing.F) {
	for _, s := range []string{
		refArgon2idM256P1, refBcrypt, refDjango, "", "$", "$$$$$",
		"$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$c29tZXNhbHRzb21lc2FsdA",
		"$2y$04$" + strings.Repeat(".", 53), "pbkdf2_sha256$1$s$",
	} {
		f.Add("password", s)
	}

	h := NewCheapHasher(0)
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		ok, rehash, err := h.Verify(context.Background(), pw, encoded)
		if err != nil && (ok || rehash) {
			t.Errorf("got ok=%v needsRehash=%v with error %v", ok, rehash, err)
		}
	})
}

// TestHasher_Verify_tooLong checks that a password over MaxLength never
// matches yet still costs a verify.
func TestHasher_Verify_tooLong(t *testing.T) {
	ctx := context.Background()
	h := NewCheapHasher(0)
	long := strings.Repeat("a", password.MaxLength)
	encoded := MustHash(t, h, long)

	var entered atomic.Int32
	password.SetHooks(h, func() { entered.Add(1) }, nil)

	ok, _, err := h.Verify(ctx, long, encoded)
	if !ok || err != nil {
		t.Errorf("MaxLength bytes: got %v, %v; want true, nil", ok, err)
	}

	entered.Store(0)
	ok, rehash, err := h.Verify(ctx, long+"a", encoded)
	if ok || rehash || err != nil {
		t.Errorf("MaxLength+1 bytes: got %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
	if got := entered.Load(); got != 1 {
		t.Errorf("MaxLength+1 bytes: hashed %d times, want 1", got)
	}
}

func TestHasher_VerifyDummy(t *testing.T) {
	ctx := context.Background()
	h := NewCheapHasher(0)

	// The dummy hash has h's parameters and verifies without error, so the
	// dummy verify does all the work of a real one.
	dummy := password.DummyHash(h)
	if !phcPattern.MatchString(dummy) {
		t.Errorf("got dummy hash %q, want it to match %v", dummy, phcPattern)
	}
	ok, rehash, err := h.Verify(ctx, "password", dummy)
	if ok || rehash || err != nil {
		t.Errorf("Verify(dummy) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}

	var entered atomic.Int32
	password.SetHooks(h, func() { entered.Add(1) }, nil)
	h.VerifyDummy(ctx, "password")
	if got := entered.Load(); got != 1 {
		t.Errorf("hashed %d times, want 1", got)
	}
}

// TestHasher_concurrency launches 10 verifies on a Hasher that allows 2 and
// counts how many are inside the hashing section at once.
func TestHasher_concurrency(t *testing.T) {
	const n, limit = 10, 2
	h := NewCheapHasher(limit)
	encoded := MustHash(t, h, "correct horse")

	// Each verify, once inside, reports in and waits for a go-ahead, so the
	// first two stay inside together while the rest queue.
	var inside, most atomic.Int32
	entered := make(chan struct{}, n)
	proceed := make(chan struct{})
	password.SetHooks(h,
		func() {
			c := inside.Add(1)
			for m := most.Load(); c > m && !most.CompareAndSwap(m, c); m = most.Load() {
			}
			entered <- struct{}{}
			<-proceed
		},
		func() { inside.Add(-1) },
	)

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, _, err := h.Verify(context.Background(), "correct horse", encoded)
			if !ok || err != nil {
				t.Errorf("got %v, %v; want true, nil", ok, err)
			}
		})
	}

	// Both slots fill before anyone leaves; then let them through one by one.
	for range limit {
		<-entered
	}
	for range n {
		proceed <- struct{}{}
	}
	wg.Wait()

	if got := most.Load(); got != limit {
		t.Errorf("got at most %d inside at once, want %d", got, limit)
	}
}

// TestHasher_cancel checks that a caller waiting for a hashing slot gives up
// when its context ends. The test hangs if it does not.
func TestHasher_cancel(t *testing.T) {
	h := NewCheapHasher(1)
	encoded := MustHash(t, h, "correct horse")

	// Hold the only slot until the end of the test.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	password.SetHooks(h, func() { once.Do(func() { close(held); <-release }) }, nil)
	holder := make(chan struct{})
	go func() {
		defer close(holder)
		_, _, _ = h.Verify(context.Background(), "correct horse", encoded)
	}()
	<-held
	defer func() { close(release); <-holder }()

	t.Run("verify", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, _, err := h.Verify(ctx, "correct horse", encoded)
			errc <- err
		}()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})

	t.Run("hash", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Hash(ctx, "correct horse"); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})

	t.Run("verify-dummy", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h.VerifyDummy(ctx, "correct horse")
	})
}

// TestHasher_zero checks that a Hasher built without NewHasher still verifies:
// its semaphore is made on first use.
func TestHasher_zero(t *testing.T) {
	var h password.Hasher
	ok, rehash, err := h.Verify(context.Background(), "password", refArgon2idM256P1)
	if !ok || !rehash || err != nil {
		t.Errorf("got %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}
