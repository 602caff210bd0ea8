package token

import "sync"

// scratch holds the working bytes of one Verify or Sign call. Pooling it saves an
// allocation of about the size of the token on every call.
type scratch struct {
	buf []byte // the token, then what is decoded from it or encoded into it
	sig []byte // a signature being converted to or from ASN.1
}

// maxScratch is the largest buffer put back in the pool. Verify needs at most
// MaxTokenSize plus the decoded size of two of its segments; anything bigger was
// made for an unusually large set of claims passed to Sign and is left to the GC.
const maxScratch = 2 * MaxTokenSize

var scratchPool = sync.Pool{New: func() any {
	return &scratch{sig: make([]byte, 0, 72)} // the longest ES256 signature in ASN.1
}}

// getScratch returns a scratch whose buf is empty with room for at least n bytes.
func getScratch(n int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if cap(sc.buf) < n {
		sc.buf = make([]byte, 0, n)
	}
	sc.buf = sc.buf[:0]
	return sc
}

// putScratch returns sc to the pool. The caller must hold no slice of it.
func putScratch(sc *scratch) {
	if cap(sc.buf) > maxScratch {
		return
	}
	scratchPool.Put(sc)
}
