package attacktest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/internal/attacktest"
	"github.com/gatepass/gatepass/token"
)

const (
	testIssuer   = "https://id.example.test"
	testAudience = "https://api.example.test"
)

var testNow = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

// TestCorpusRefusedByVerifier forges every case for a key set like a server's
// and checks that the token package refuses each one, while an unchanged token
// signed the same way passes: the forger's own signatures are sound, so a
// refusal comes from what the case changed. The HTTP-level tests send the same
// tokens to every endpoint.
func TestCorpusRefusedByVerifier(t *testing.T) {
	cases, err := attacktest.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("corpus has %d cases, want at least 100", len(cases))
	}

	for _, alg := range token.Algorithms {
		t.Run(alg, func(t *testing.T) {
			target, v := mustTarget(t, alg)
			f, err := attacktest.NewForger(target)
			if err != nil {
				t.Fatal(err)
			}

			control, err := f.Forge(attacktest.Case{Name: "control", Sign: "server",
				Claims: map[string]string{"jti": `"control"`}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(control); err != nil {
				t.Fatalf("an unchanged token signed by the forger is refused: %v", err)
			}

			forged := 0
			for _, c := range cases {
				tok, err := f.Forge(c)
				if errors.Is(err, attacktest.ErrNotApplicable) {
					t.Logf("%s: %v", c.Name, err)
					continue
				} else if err != nil {
					t.Errorf("%s: %v", c.Name, err)
					continue
				}
				forged++
				if claims, err := v.Verify(tok); err == nil {
					t.Errorf("%s: accepted, claims %+v", c.Name, claims)
				} else if gatepass.ErrorCode(err) != gatepass.EINVALIDTOKEN {
					t.Errorf("%s: error %v, want an invalid-token error", c.Name, err)
				}
			}
			if forged < len(cases)*3/4 {
				t.Errorf("only %d of %d cases apply to %s", forged, len(cases), alg)
			}
		})
	}
}

// mustTarget makes a server-like key set: an ES256 key that is no longer
// current and a current key of alg, a genuine token pair and a verifier.
func mustTarget(tb testing.TB, alg string) (attacktest.Target, *token.Verifier) {
	tb.Helper()
	other := mustKey(tb, token.ES256)
	current := mustKey(tb, alg)
	jwks, err := token.MarshalJWKS([]*token.Key{other, current})
	if err != nil {
		tb.Fatal(err)
	}

	signer, err := token.NewSigner(current)
	if err != nil {
		tb.Fatal(err)
	}
	access, err := signer.Sign(&gatepass.Claims{
		Issuer: testIssuer, Subject: "1", Audience: gatepass.Audience{testAudience},
		ExpiresAt: testNow.Add(15 * time.Minute).Unix(), IssuedAt: testNow.Unix(),
		NotBefore: testNow.Unix(), ID: "jti-1", SessionID: "sid-1",
		Scope: "profile email", ClientID: "gatepass", Username: "alice",
	})
	if err != nil {
		tb.Fatal(err)
	}

	v, err := token.NewVerifier(token.VerifierConfig{
		Keys:       []*token.Key{other, current},
		Algorithms: []string{token.ES256, alg},
		Issuer:     testIssuer,
		Audience:   testAudience,
		Leeway:     30 * time.Second,
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return attacktest.Target{
		Current:      stored(tb, current),
		Other:        stored(tb, other),
		JWKS:         jwks,
		Access:       access,
		Refresh:      "c2VjcmV0LXJlZnJlc2gtdG9rZW4tb2YtNDMtY2hhcnM",
		OtherSubject: "2",
		Now:          testNow,
		AttackerURL:  "https://attacker.example.test",
	}, v
}

func mustKey(tb testing.TB, alg string) *token.Key {
	tb.Helper()
	k, err := token.GenerateKey(alg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func stored(tb testing.TB, k *token.Key) attacktest.Key {
	tb.Helper()
	private, err := k.MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	return attacktest.Key{ID: k.ID, Algorithm: k.Algorithm, Private: private}
}
