package token_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

func Example() {
	key, err := token.GenerateKey(token.ES256, nil)
	if err != nil {
		panic(err)
	}
	signer, err := token.NewSigner(key)
	if err != nil {
		panic(err)
	}

	now := time.Now()
	tok, err := signer.Sign(&gatepass.Claims{
		Issuer:    "https://auth.example.com",
		Subject:   "42",
		Audience:  gatepass.Audience{"api"},
		ExpiresAt: now.Add(15 * time.Minute).Unix(),
		IssuedAt:  now.Unix(),
		ID:        "8f1c2a",
	})
	if err != nil {
		panic(err)
	}

	// A resource server verifies with the public keys of the published JWKS.
	jwks, err := token.MarshalJWKS([]*token.Key{key})
	if err != nil {
		panic(err)
	}
	public, err := token.ParseJWKS(jwks)
	if err != nil {
		panic(err)
	}
	verifier, err := token.NewVerifier(token.VerifierConfig{
		Keys:       public,
		Algorithms: []string{token.ES256},
		Issuer:     "https://auth.example.com",
		Audience:   "api",
		Leeway:     5 * time.Second,
	})
	if err != nil {
		panic(err)
	}

	claims, err := verifier.Verify(tok)
	fmt.Println(claims.Subject, err)

	_, err = verifier.Verify("not.a.token")
	fmt.Println(errors.Is(err, token.ErrMalformed), gatepass.ErrorCode(err))
	// Output:
	// 42 <nil>
	// true invalid_token
}
