package token_test

import (
	"testing"

	"github.com/gatepass/gatepass"
)

// FuzzVerify checks that Verify never panics, that every rejection is an
// invalid-token error, and that whatever it accepts golang-jwt accepts too: this
// package must be strictly narrower than a general JWT library.
func FuzzVerify(f *testing.F) {
	keys := mustLoadKeys(f)
	v := mustVerifier(f, testConfig(keys))
	oracle := oracleKeys(f, keys)

	for _, k := range keys {
		tok := mustSign(f, k, testClaims())
		h, p, s := segments(f, tok)
		f.Add(tok)
		f.Add(h + "." + p)
		f.Add(h + "." + p + ".")
		f.Add(tok + "==")
		f.Add(tok[:len(tok)-1])
		f.Add(h + "." + p + "." + s + "." + s)
		f.Add(enc([]byte(headerJSON("none", k.ID))) + "." + p + ".")
		f.Add(forge(f, k, headerJSON(k.Algorithm, k.ID)+" ", claimsJSON(f, nil)))
		f.Add(forge(f, k, headerJSON(k.Algorithm, k.ID), "null"))
		f.Add(forge(f, k, headerJSON(k.Algorithm, k.ID), `{"exp":"1"}`))
	}
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("e30.e30.e30")

	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := v.Verify(tok)
		if err != nil {
			if claims != nil {
				t.Errorf("Verify returned claims with error %v", err)
			}
			if code := gatepass.ErrorCode(err); code != gatepass.EINVALIDTOKEN {
				t.Errorf("ErrorCode = %q, want %q", code, gatepass.EINVALIDTOKEN)
			}
			return
		}

		if claims == nil {
			t.Fatal("Verify returned neither claims nor an error")
		}
		if _, err := oracleVerify(tok, oracle); err != nil {
			t.Errorf("accepted a token that golang-jwt rejects: %v", err)
		}
	})
}
