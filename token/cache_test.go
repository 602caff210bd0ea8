package token_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// cacheClock is a clock the cache tests move by hand, in whole seconds, from
// testNow. It is safe for concurrent use.
type cacheClock struct {
	unix atomic.Int64
}

func newCacheClock() *cacheClock {
	c := &cacheClock{}
	c.unix.Store(testNow.Unix())
	return c
}

// Now returns the clock's time.
func (c *cacheClock) Now() time.Time {
	return time.Unix(c.unix.Load(), 0)
}

// Advance moves the clock by d, backwards when d is negative.
func (c *cacheClock) Advance(d time.Duration) {
	c.unix.Add(int64(d / time.Second))
}

// mustCache returns a cache of size tokens over the test verifier for keys, on
// clock, and that verifier.
func mustCache(tb testing.TB, clock *cacheClock, size int,
	keys ...*token.Key) (*token.Cache, *token.Verifier) {
	tb.Helper()
	cfg := testConfig(keys)
	cfg.Now = clock.Now
	v := mustVerifier(tb, cfg)
	return token.NewCache(v, size), v
}

// claimsWithID returns testClaims with the token id jti.
func claimsWithID(jti string) *gatepass.Claims {
	c := testClaims()
	c.ID = jti
	return c
}

// mustSignMany returns n tokens signed by k whose ids are "jti-0", "jti-1"...
func mustSignMany(tb testing.TB, k *token.Key, n int) []string {
	tb.Helper()
	s, err := token.NewSigner(k)
	if err != nil {
		tb.Fatal(err)
	}
	toks := make([]string, n)
	for i := range toks {
		if toks[i], err = s.Sign(claimsWithID(fmt.Sprint("jti-", i))); err != nil {
			tb.Fatal(err)
		}
	}
	return toks
}

func TestCache_hitReturnsVerifierClaims(t *testing.T) {
	for _, k := range mustLoadKeys(t) {
		t.Run(k.Algorithm, func(t *testing.T) {
			c, v := mustCache(t, newCacheClock(), token.DefaultCacheSize, k)
			tok := mustSign(t, k, testClaims())
			want, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verifier.Verify: %v", err)
			}

			// The first call stores the token, the others are answered from memory.
			for i := range 3 {
				got, err := c.Verify(tok)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("call %d: claims (-got +want):\n%s", i, diff)
				}

				// What a caller does to its claims reaches no other caller.
				got.Subject, got.Audience[0] = "mallory", "evil"
				got.Audience = append(got.Audience, "more")
			}
			if got, want := c.Len(), 1; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
		})
	}
}

func TestCache_Verifier(t *testing.T) {
	c, v := mustCache(t, newCacheClock(), 10, mustLoadKey(t, token.HS256))
	if got := c.Verifier(); got != v {
		t.Errorf("Verifier = %p, want %p", got, v)
	}
}

// TestCache_timeRules caches a token, moves the clock and checks that the cache
// answers as the Verifier does at the new time: exp, nbf and iat are checked
// again on every hit, with the same leeway.
func TestCache_timeRules(t *testing.T) {
	now := testNow.Unix()
	tests := []struct {
		name    string
		edit    func(c *gatepass.Claims)
		move    time.Duration
		wantErr error
	}{
		{name: "before-exp", move: 899 * time.Second},
		{name: "last-second-of-leeway", move: 900*time.Second + testLeeway - time.Second},
		{name: "expired-past-leeway", move: 900*time.Second + testLeeway,
			wantErr: token.ErrExpired},
		{name: "long-expired", move: 24 * time.Hour, wantErr: token.ErrExpired},
		{name: "short-lived", edit: func(c *gatepass.Claims) { c.ExpiresAt = now + 1 },
			move: testLeeway + time.Second, wantErr: token.ErrExpired},
		{name: "clock-back-within-leeway", move: -testLeeway},
		{name: "clock-back-before-nbf", move: -testLeeway - time.Second,
			wantErr: token.ErrNotYetValid},
		{name: "clock-back-before-iat",
			edit: func(c *gatepass.Claims) { c.NotBefore = now - 3600 },
			move: -testLeeway - time.Second, wantErr: token.ErrNotYetValid},
		{name: "nbf-in-leeway", edit: func(c *gatepass.Claims) { c.NotBefore = now + 20 },
			move: -11 * time.Second, wantErr: token.ErrNotYetValid},
		{name: "nbf-in-leeway-clock-back-less", edit: func(c *gatepass.Claims) {
			c.NotBefore = now + 20
		}, move: -10 * time.Second},
	}
	k := mustLoadKey(t, token.ES256)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newCacheClock()
			c, v := mustCache(t, clock, 10, k)
			claims := testClaims()
			if tt.edit != nil {
				tt.edit(claims)
			}
			tok := mustSign(t, k, claims)
			if _, err := c.Verify(tok); err != nil {
				t.Fatalf("first Verify: %v", err)
			}

			clock.Advance(tt.move)
			got, err := c.Verify(tok)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
			if _, verr := v.Verify(tok); !errors.Is(verr, tt.wantErr) ||
				(verr == nil) != (tt.wantErr == nil) {
				t.Errorf("Verifier.Verify = %v, want %v as the cache answers", verr,
					tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(got, claims); diff != "" {
					t.Errorf("claims (-got +want):\n%s", diff)
				}
			}
		})
	}
}

// TestCache_failuresNotStored checks that a token the Verifier refuses is not
// stored, so it is checked in full each time.
func TestCache_failuresNotStored(t *testing.T) {
	keys := mustLoadKeys(t)
	k := keys[0]
	now := testNow.Unix()
	signWith := func(edit func(c *gatepass.Claims)) string {
		c := testClaims()
		edit(c)
		return mustSign(t, k, c)
	}
	tests := []struct {
		name    string
		tok     string
		wantErr error
	}{
		{name: "forged-signature", tok: mustSign(t, mustImpostor(t, k), testClaims()),
			wantErr: token.ErrSignature},
		{name: "unknown-key", tok: mustSign(t, mustGenerateKey(t, token.EdDSA), testClaims()),
			wantErr: token.ErrUnknownKey},
		{name: "alg-none", tok: unsigned(t, "none", k.ID), wantErr: token.ErrAlgorithm},
		{name: "malformed", tok: "a.b", wantErr: token.ErrMalformed},
		{name: "expired", tok: signWith(func(c *gatepass.Claims) { c.ExpiresAt = now - 60 }),
			wantErr: token.ErrExpired},
		{name: "not-yet-valid",
			tok:     signWith(func(c *gatepass.Claims) { c.NotBefore = now + 60 }),
			wantErr: token.ErrNotYetValid},
		{name: "wrong-audience",
			tok:     signWith(func(c *gatepass.Claims) { c.Audience = gatepass.Audience{"x"} }),
			wantErr: token.ErrAudience},
		{name: "too-large", tok: string(make([]byte, token.MaxTokenSize+1)),
			wantErr: token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustCache(t, newCacheClock(), 10, keys...)
			for i := range 2 {
				if _, err := c.Verify(tt.tok); !errors.Is(err, tt.wantErr) {
					t.Errorf("call %d: Verify = %v, want %v", i, err, tt.wantErr)
				}
			}
			if got := c.Len(); got != 0 {
				t.Errorf("Len = %d, want 0", got)
			}
		})
	}
}

// TestCache_refusalNotRemembered checks that a token refused for its time is
// accepted once its time has come: the refusal was not remembered.
func TestCache_refusalNotRemembered(t *testing.T) {
	k := mustLoadKey(t, token.HS256)
	clock := newCacheClock()
	c, _ := mustCache(t, clock, 10, k)
	want := testClaims()
	want.NotBefore = testNow.Unix() + 120
	tok := mustSign(t, k, want)

	if _, err := c.Verify(tok); !errors.Is(err, token.ErrNotYetValid) {
		t.Fatalf("Verify before nbf = %v, want ErrNotYetValid", err)
	}
	clock.Advance(120 * time.Second)
	got, err := c.Verify(tok)
	if err != nil {
		t.Fatalf("Verify at nbf: %v", err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("claims (-got +want):\n%s", diff)
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
}

// TestCache_hitAllocatesOnlyClaims checks that a hit costs one allocation, the
// caller's copy of the claims, and that forged tokens, however many, do not push
// a good token out.
func TestCache_hitAllocatesOnlyClaims(t *testing.T) {
	k := mustLoadKey(t, token.HS256)
	c, _ := mustCache(t, newCacheClock(), 16, k)
	tok := mustSign(t, k, testClaims())
	if _, err := c.Verify(tok); err != nil {
		t.Fatal(err)
	}

	for _, forged := range mustSignMany(t, mustImpostor(t, k), 1000) {
		if _, err := c.Verify(forged); !errors.Is(err, token.ErrSignature) {
			t.Fatalf("Verify of a forgery = %v, want ErrSignature", err)
		}
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len after forgeries = %d, want 1", got)
	}
	got := testing.AllocsPerRun(100, func() {
		if _, err := c.Verify(tok); err != nil {
			t.Fatal(err)
		}
	})
	if got != 1 {
		t.Errorf("allocations per hit = %v, want 1", got)
	}
}

// TestCache_verifyShared checks that VerifyShared answers as Verify does, that
// the claims a miss hands out stay the caller's own, that a hit allocates
// nothing, and that its times are checked again on every hit.
func TestCache_verifyShared(t *testing.T) {
	k := mustLoadKey(t, token.ES256)
	clock := newCacheClock()
	c, v := mustCache(t, clock, 16, k)
	tok := mustSign(t, k, testClaims())
	want, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}

	// The miss stores the token; its claims are the caller's to change.
	first, err := c.VerifyShared(tok)
	if err != nil {
		t.Fatalf("first VerifyShared: %v", err)
	}
	first.Subject, first.Audience[0] = "mallory", "evil"

	for i := range 2 {
		got, err := c.VerifyShared(tok)
		if err != nil {
			t.Fatalf("hit %d: %v", i, err)
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("hit %d: claims (-got +want):\n%s", i, diff)
		}
	}
	if got, err := c.Verify(tok); err != nil || got.Subject != want.Subject {
		t.Errorf("Verify after VerifyShared = %v, %v; want subject %q", got, err,
			want.Subject)
	}

	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.VerifyShared(tok); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per shared hit = %v, want 0", allocs)
	}

	clock.Advance(900*time.Second + testLeeway)
	if _, err := c.VerifyShared(tok); !errors.Is(err, token.ErrExpired) {
		t.Errorf("VerifyShared after exp = %v, want ErrExpired", err)
	}
}

// TestCache_bounded checks that the cache never holds more tokens than its size,
// however many distinct ones it sees, and answers correctly for those it had
// to evict.
func TestCache_bounded(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{name: "one-shard", size: 10},
		{name: "few-shards", size: 100},
		{name: "many-shards", size: 2000},
	}
	k := mustLoadKey(t, token.HS256)
	toks := mustSignMany(t, k, 5000)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustCache(t, newCacheClock(), tt.size, k)
			for i, tok := range toks {
				if _, err := c.Verify(tok); err != nil {
					t.Fatalf("token %d: %v", i, err)
				}
				if n := c.Len(); n > tt.size {
					t.Fatalf("after %d tokens Len = %d, want at most %d", i+1, n, tt.size)
				}
			}
			// With thousands of tokens hashed over the shards, every shard is full.
			if got := c.Len(); got < tt.size*9/10 {
				t.Errorf("Len = %d, want close to %d", got, tt.size)
			}

			// Evicted or not, every token still gets its own claims.
			for i, tok := range toks {
				got, err := c.Verify(tok)
				if err != nil {
					t.Fatalf("token %d again: %v", i, err)
				} else if want := fmt.Sprint("jti-", i); got.ID != want {
					t.Fatalf("token %d again: jti = %q, want %q", i, got.ID, want)
				}
			}
		})
	}
}

// TestCache_sweepsExpired fills a shard with tokens that then expire and checks
// that storing one more token drops them all rather than evicting live ones.
func TestCache_sweepsExpired(t *testing.T) {
	k := mustLoadKey(t, token.HS256)
	clock := newCacheClock()
	c, _ := mustCache(t, clock, 16, k)
	s, err := token.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(jti string, ttl int64) string {
		claims := claimsWithID(jti)
		claims.IssuedAt, claims.NotBefore = clock.Now().Unix(), clock.Now().Unix()
		claims.ExpiresAt = clock.Now().Unix() + ttl
		tok, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	var short []string
	for i := range 16 {
		tok := sign(fmt.Sprint("short-", i), 60)
		short = append(short, tok)
		if _, err := c.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Len(); got != 16 {
		t.Fatalf("Len when full = %d, want 16", got)
	}

	clock.Advance(60*time.Second + testLeeway)
	for i, tok := range short {
		if _, err := c.Verify(tok); !errors.Is(err, token.ErrExpired) {
			t.Errorf("expired token %d: Verify = %v, want ErrExpired", i, err)
		}
	}
	if _, err := c.Verify(sign("long", 900)); err != nil {
		t.Fatal(err)
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len after the sweep = %d, want 1", got)
	}
}

// TestCache_evictsWhenFull checks that a full cache of live tokens makes room
// for a new one and stays at its size.
func TestCache_evictsWhenFull(t *testing.T) {
	k := mustLoadKey(t, token.HS256)
	c, _ := mustCache(t, newCacheClock(), 16, k)
	toks := mustSignMany(t, k, 17)
	for i, tok := range toks {
		if _, err := c.Verify(tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if got, want := c.Len(), min(i+1, 16); got != want {
			t.Errorf("after %d tokens Len = %d, want %d", i+1, got, want)
		}
	}
}

// TestCache_newVerifierForNewKeys checks the contract for key changes: a cache
// built with a Verifier that lacks a removed key refuses that key's tokens,
// whatever an older cache remembered.
func TestCache_newVerifierForNewKeys(t *testing.T) {
	removed, kept := mustLoadKey(t, token.ES256), mustLoadKey(t, token.EdDSA)
	clock := newCacheClock()
	old, _ := mustCache(t, clock, 10, removed, kept)
	tokRemoved, tokKept := mustSign(t, removed, testClaims()), mustSign(t, kept, testClaims())
	for _, tok := range []string{tokRemoved, tokKept} {
		if _, err := old.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}

	c, _ := mustCache(t, clock, 10, kept)
	if _, err := c.Verify(tokRemoved); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("token of the removed key: Verify = %v, want ErrUnknownKey", err)
	}
	if _, err := c.Verify(tokKept); err != nil {
		t.Errorf("token of the kept key: %v", err)
	}
}

// TestCache_disabled checks that a cache of size 0 or less stores nothing and
// answers as its Verifier does.
func TestCache_disabled(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprint("size-", size), func(t *testing.T) {
			k := mustLoadKey(t, token.ES256)
			c, _ := mustCache(t, newCacheClock(), size, k)
			want := testClaims()
			tok := mustSign(t, k, want)
			for i := range 2 {
				got, err := c.Verify(tok)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("call %d: claims (-got +want):\n%s", i, diff)
				}
				got.Subject = "mallory"
			}
			forged := mustSign(t, mustImpostor(t, k), testClaims())
			if _, err := c.Verify(forged); !errors.Is(err, token.ErrSignature) {
				t.Errorf("forgery: Verify = %v, want ErrSignature", err)
			}
			if got := c.Len(); got != 0 {
				t.Errorf("Len = %d, want 0", got)
			}
		})
	}
}

// TestCache_concurrent verifies a working set larger than the cache, with
// forgeries among it, from many goroutines while the clock moves, so that hits,
// misses, evictions and sweeps race; run it with -race.
func TestCache_concurrent(t *testing.T) {
	k := mustLoadKey(t, token.HS256)
	clock := newCacheClock()
	c, _ := mustCache(t, clock, 64, k)
	toks := mustSignMany(t, k, 200)
	forged := mustSignMany(t, mustImpostor(t, k), 20)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 0))
			for range 2000 {
				if r.IntN(10) == 0 {
					if _, err := c.Verify(forged[r.IntN(len(forged))]); !errors.Is(err,
						token.ErrSignature) {
						t.Errorf("forgery: Verify = %v, want ErrSignature", err)
						return
					}
					continue
				}
				i := r.IntN(len(toks))
				got, err := c.Verify(toks[i])
				if err != nil {
					t.Errorf("token %d: %v", i, err)
					return
				} else if want := fmt.Sprint("jti-", i); got.ID != want {
					t.Errorf("token %d: jti = %q, want %q", i, got.ID, want)
					return
				}
				got.Scope = "changed by a caller"
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			clock.Advance(time.Second)
		}
	})
	wg.Wait()

	if n := c.Len(); n > 64 {
		t.Errorf("Len = %d, want at most 64", n)
	}
	got, err := c.Verify(toks[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, claimsWithID("jti-0")); diff != "" {
		t.Errorf("claims after the race (-got +want):\n%s", diff)
	}
}
