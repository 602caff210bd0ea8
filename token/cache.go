package token

import (
	"hash/maphash"
	"strings"
	"sync"

	"github.com/gatepass/gatepass"
)

// DefaultCacheSize is the number of tokens a Cache holds unless told otherwise.
// An entry costs about 1 KiB (the token, its claims and the map slot), so the
// default stays near 10 MiB, and it holds the live access token of 10,000
// clients active within one token lifetime. A cache that is too small costs
// only speed: every token it cannot hold is verified in full.
const DefaultCacheSize = 10_000

const (
	// maxCacheShards bounds the number of shards; more than there are cores
	// buys nothing.
	maxCacheShards = 64

	// minShardSize is the fewest entries a shard is given while the cache is
	// split further, so that a small cache is not cut into slivers that each
	// evict at random long before the whole is full.
	minShardSize = 16

	// evictionSample is how many entries a full shard looks at to choose the
	// one it evicts.
	evictionSample = 4
)

// Cache remembers the claims of the tokens its Verifier has accepted, so that
// checking the same token again costs a map lookup and a copy of the claims (no
// copy with VerifyShared) instead of a signature check and a JSON decoding. It
// is safe for concurrent use.
//
// Only the rules that change with time are checked again on a hit: exp, nbf
// and iat, with the Verifier's leeway and clock. Everything else the Verifier
// decided (signature, key, algorithm, issuer, audience) depends on the token's
// bytes and the Verifier alone, so the answer cannot change. The key is the
// whole token: a token that differs in one byte is looked up, and checked,
// apart. Failures are never stored, so forged tokens cannot evict good ones;
// each of them still costs a full check, as it would without the cache.
//
// A Cache belongs to one Verifier. When the keys change, build a new Verifier
// and a new Cache with it, so that no token of a key that was removed is ever
// answered from memory.
//
// The cache is bounded. It is split into shards by a keyed hash of the token,
// each with its own lock. A shard drops its expired entries when it next stores
// a token after the earliest of them has expired; when it is full of live ones
// it evicts, of a few entries it looks at, the one that expires first, which has
// the least time left to be useful. An exact LRU would take a write lock on
// every hit.
type Cache struct {
	v      *Verifier
	seed   maphash.Seed
	shards []cacheShard
	limit  int // entries per shard
}

// cacheShard is one lock and the entries under it.
type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]cacheEntry

	// sweepAt is the smallest exp among the entries: nothing needs sweeping
	// before it has passed.
	sweepAt int64

	// The padding keeps the locks of neighbouring shards off one cache line,
	// so that readers of different shards do not slow each other down.
	_ [64]byte
}

// cacheEntry is a token the Verifier accepted.
type cacheEntry struct {
	// claims is shared by every hit and never modified; callers get copies.
	claims *gatepass.Claims

	// exp and validFrom are the times the Verifier checks on every call:
	// validFrom is the later of nbf and iat.
	exp       int64
	validFrom int64
}

// NewCache returns a cache of at most size tokens verified by v, which must not
// be nil. A size of 0 or less stores nothing: Verify then calls v every time,
// which lets callers turn the cache off without a second code path.
func NewCache(v *Verifier, size int) *Cache {
	c := &Cache{v: v, seed: maphash.MakeSeed()}
	if size <= 0 {
		return c
	}

	// Split the cache in as many shards as it can fill, up to the maximum; the
	// count is a power of two so that a mask picks the shard.
	n := 1
	for n < maxCacheShards && size/(2*n) >= minShardSize {
		n *= 2
	}
	c.shards = make([]cacheShard, n)
	c.limit = size / n
	for i := range c.shards {
		c.shards[i].entries = make(map[string]cacheEntry)
	}
	return c
}

// Verifier returns the Verifier whose results c holds.
func (c *Cache) Verifier() *Verifier {
	return c.v
}

// Len returns the number of tokens c holds, expired ones not yet swept
// included.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.entries)
		sh.mu.RUnlock()
	}
	return n
}

// Verify checks tok as the Verifier does, and returns the same claims and the
// same errors. The claims are the caller's own copy.
func (c *Cache) Verify(tok string) (*gatepass.Claims, error) {
	claims, hit, err := c.verify(tok)
	if hit {
		// Handing out the stored claims would save the one allocation of a hit,
		// but then a caller that changed its claims, say a handler filling in a
		// default scope, would change them for every later request with the
		// token. VerifyShared is for the callers that only read them.
		return copyClaims(claims), nil
	}
	return claims, err
}

// VerifyShared is Verify for a caller that only reads the claims: on a hit they
// are the ones the cache holds, shared with every other caller, and must not be
// changed. A hit then allocates nothing, which saves about a third of its cost.
func (c *Cache) VerifyShared(tok string) (*gatepass.Claims, error) {
	claims, _, err := c.verify(tok)
	return claims, err
}

// verify returns the claims of tok and whether they are the stored ones, which
// the caller must not hand out to be changed.
func (c *Cache) verify(tok string) (claims *gatepass.Claims, hit bool, err error) {
	// The size check keeps an oversized token from being hashed.
	if c.shards == nil || len(tok) > MaxTokenSize {
		claims, err = c.v.Verify(tok)
		return claims, false, err
	}

	sh := c.shard(tok)
	sh.mu.RLock()
	e, ok := sh.entries[tok]
	sh.mu.RUnlock()
	if ok {
		if err := c.v.checkTimes(c.v.now().Unix(), e.exp, e.validFrom); err != nil {
			return nil, false, err
		}
		return e.claims, true, nil
	}

	claims, err = c.v.Verify(tok)
	if err != nil {
		return nil, false, err
	}

	// Store a copy: the caller owns the claims it is handed and may change them.
	// The token is cloned so that the entry does not pin a larger buffer, such
	// as a request header, that tok may be a slice of.
	e = cacheEntry{
		claims:    copyClaims(claims),
		exp:       claims.ExpiresAt,
		validFrom: max(claims.NotBefore, claims.IssuedAt),
	}
	sh.add(strings.Clone(tok), e, c.v.now().Unix()-c.v.leeway, c.limit)
	return claims, false, nil
}

// shard returns the shard of tok. The hash is keyed with a random seed, so
// nobody can choose tokens that all land in one shard.
func (c *Cache) shard(tok string) *cacheShard {
	h := maphash.String(c.seed, tok)
	return &c.shards[h&uint64(len(c.shards)-1)]
}

// add stores e under tok, making room if the shard holds limit entries. cutoff
// is the current time less the leeway: an entry whose exp is not after it has
// expired.
func (sh *cacheShard) add(tok string, e cacheEntry, cutoff int64, limit int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()

	// Another caller may have stored the token since the lookup.
	if _, ok := sh.entries[tok]; ok {
		return
	}

	if len(sh.entries) > 0 && sh.sweepAt <= cutoff {
		sh.sweep(cutoff)
	}
	if len(sh.entries) >= limit {
		sh.evict()
	}

	if len(sh.entries) == 0 || e.exp < sh.sweepAt {
		sh.sweepAt = e.exp
	}
	sh.entries[tok] = e
}

// sweep deletes the expired entries. It runs only once the earliest entry has
// expired, so at most about once a second per shard, since exp is in seconds.
func (sh *cacheShard) sweep(cutoff int64) {
	next := int64(0)
	for tok, e := range sh.entries {
		if e.exp <= cutoff {
			delete(sh.entries, tok)
		} else if next == 0 || e.exp < next {
			next = e.exp
		}
	}
	sh.sweepAt = next
}

// evict deletes the entry that expires first among a few taken from where Go's
// randomised map iteration starts.
func (sh *cacheShard) evict() {
	victim, exp, seen := "", int64(0), 0
	for tok, e := range sh.entries {
		if seen == 0 || e.exp < exp {
			victim, exp = tok, e.exp
		}
		if seen++; seen == evictionSample {
			break
		}
	}
	delete(sh.entries, victim)
}

// checkTimes applies the time rules to a token with the given exp and the later
// of its nbf and iat, at now, in Unix seconds. checkClaims and the cache both
// call it, so a cached token is refused at the very second the Verifier would
// refuse it.
func (v *Verifier) checkTimes(now, exp, validFrom int64) error {
	switch {
	case now-v.leeway >= exp:
		return ErrExpired
	case validFrom-v.leeway > now:
		return ErrNotYetValid
	}
	return nil
}

// claimsWithAudience lays out a copy of claims with a single audience, the case
// of every token gatepass issues, in one allocation.
type claimsWithAudience struct {
	claims gatepass.Claims
	aud    [1]string
}

// copyClaims returns a deep copy of c: nothing a caller does to it reaches c.
// The strings are shared, since they cannot change.
func copyClaims(c *gatepass.Claims) *gatepass.Claims {
	if len(c.Audience) == 1 {
		b := &claimsWithAudience{claims: *c, aud: [1]string{c.Audience[0]}}
		b.claims.Audience = b.aud[:]
		return &b.claims
	}

	cp := *c
	cp.Audience = append(gatepass.Audience(nil), c.Audience...)
	return &cp
}
