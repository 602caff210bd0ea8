package password

// SetHooks makes h call enter just after it takes a hashing slot and leave
// just before it gives the slot back. Either may be nil. Call it before h is
// shared between goroutines.
func SetHooks(h *Hasher, enter, leave func()) {
	h.onEnter, h.onLeave = enter, leave
}

// MaxConcurrent returns how many hashes h runs at once.
func MaxConcurrent(h *Hasher) int {
	h.semOnce.Do(h.initSem)
	return cap(h.sem)
}

// DummyHash returns the hash VerifyDummy verifies against.
func DummyHash(h *Hasher) string {
	return h.dummyHash()
}
