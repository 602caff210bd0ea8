package token_test

import (
	"testing"

	"github.com/gatepass/gatepass/token"
)

// cacheWorkingSet is how many distinct tokens the working-set benchmarks cycle
// through: more than fit in a CPU cache, fewer than the default cache size.
const cacheWorkingSet = 1000

// BenchmarkCachedVerify measures a check answered from the cache, for one token
// checked again and again and for a working set of distinct tokens.
func BenchmarkCachedVerify(b *testing.B) {
	keys := mustLoadKeys(b)
	c := token.NewCache(mustVerifier(b, testConfig(keys)), token.DefaultCacheSize)
	for _, k := range keys {
		toks := mustSignMany(b, k, cacheWorkingSet)
		mustWarm(b, c, toks)
		b.Run(k.Algorithm+"/single", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Verify(toks[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(k.Algorithm+"/working-set", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Verify(toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkCachedVerifyParallel is BenchmarkCachedVerify from GOMAXPROCS
// goroutines at once, which is how a server calls it.
func BenchmarkCachedVerifyParallel(b *testing.B) {
	keys := mustLoadKeys(b)
	c := token.NewCache(mustVerifier(b, testConfig(keys)), token.DefaultCacheSize)
	for _, k := range keys {
		toks := mustSignMany(b, k, cacheWorkingSet)
		mustWarm(b, c, toks)
		b.Run(k.Algorithm+"/single", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Verify(toks[0]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(k.Algorithm+"/working-set", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := c.Verify(toks[i%len(toks)]); err != nil {
						b.Error(err)
						return
					}
					i += 7 // goroutines start together; a stride spreads them out
				}
			})
		})
	}
}

// BenchmarkCachedVerifyMiss measures a check the cache cannot answer: the full
// check plus storing the result. Its cache holds one token and it alternates
// between two, so every call evicts one token and stores the other.
func BenchmarkCachedVerifyMiss(b *testing.B) {
	keys := mustLoadKeys(b)
	v := mustVerifier(b, testConfig(keys))
	for _, k := range keys {
		toks := mustSignMany(b, k, 2)
		b.Run(k.Algorithm, func(b *testing.B) {
			c := token.NewCache(v, 1)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Verify(toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// mustWarm verifies every token once, so that the cache holds them all.
func mustWarm(tb testing.TB, c *token.Cache, toks []string) {
	tb.Helper()
	for _, tok := range toks {
		if _, err := c.Verify(tok); err != nil {
			tb.Fatal(err)
		}
	}
}
