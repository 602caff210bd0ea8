package auth

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// keyring is an immutable snapshot of the signing keys, replaced as a whole when the
// keys change so that request paths never take a lock.
type keyring struct {
	signer *token.Signer
	kid    string
	jwks   []byte

	// tokens verifies access tokens and remembers those it accepted. It is
	// built for the verifying keys, and carried over to the next keyring only
	// while they stay the same.
	tokens    *token.Cache
	verifying []*gatepass.SigningKey
}

// KeyInfo describes a stored signing key without its private half.
type KeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time

	// RetiredAt is zero for the current key.
	RetiredAt time.Time

	// PublishedUntil is when a retired key leaves the JWKS: the moment the last
	// token it signed has expired. Zero for the current key.
	PublishedUntil time.Time
}

// ensureSigningKey creates the first signing key, of the configured algorithm,
// when the store has no current key.
// Instances starting at once take turns under the store's key lock, so exactly
// one creates it.
func (s *Service) ensureSigningKey(ctx context.Context) error {
	return s.store.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.LockKeys(ctx); err != nil {
			return err
		}
		keys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		}

		for _, k := range keys {
			if k.Current() {
				return nil
			}
		}
		return s.rotateKeysTx(ctx, tx)
	})
}

// EnsureAlgorithm rotates to a key of the configured algorithm when the current key
// uses another one; the old key stays published until its tokens expire. The server
// calls it at start, so changing --alg takes effect without a manual rotation, while
// admin commands run with default flags never switch the algorithm.
func (s *Service) EnsureAlgorithm(ctx context.Context) error {
	var created *gatepass.SigningKey
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.LockKeys(ctx); err != nil {
			return err
		}
		keys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		}

		for _, k := range keys {
			if k.Current() && k.Algorithm == s.cfg.Algorithm {
				return nil
			}
		}
		created, err = s.createKeyTx(ctx, tx, s.cfg.Algorithm, gatepass.AuditKeyRotated,
			reasonAlgorithm)
		return err
	})
	if err != nil || created == nil {
		return err
	}

	s.Logger.Info("signing algorithm changed, key rotated", attrKeyID, created.ID,
		attrAlg, created.Algorithm)
	return s.ReloadKeys(ctx)
}

// RotateKeys makes a new key the current one: of algorithm alg, or of the current
// key's algorithm when alg is empty. The old key stops signing at once but stays in
// the JWKS until every token it signed has expired. Other instances pick the new key
// up at their next key reload.
func (s *Service) RotateKeys(ctx context.Context, alg string) (*KeyInfo, error) {
	var created *gatepass.SigningKey
	err := s.store.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.LockKeys(ctx); err != nil {
			return err
		}
		if alg == "" {
			alg = s.currentAlgorithm(ctx, tx)
		}
		k, err := s.createKeyTx(ctx, tx, alg, gatepass.AuditKeyRotated, "")
		created = k
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}

	s.Logger.Info("signing key rotated", attrKeyID, created.ID, attrAlg, created.Algorithm)
	if err := s.ReloadKeys(ctx); err != nil {
		return nil, err
	}
	info := s.keyInfo(created)
	return &info, nil
}

// currentAlgorithm is the algorithm of the current key, or the configured one.
func (s *Service) currentAlgorithm(ctx context.Context, tx gatepass.Tx) string {
	keys, err := tx.FindKeys(ctx)
	if err == nil {
		for _, k := range keys {
			if k.Current() {
				return k.Algorithm
			}
		}
	}
	return s.cfg.Algorithm
}

func (s *Service) rotateKeysTx(ctx context.Context, tx gatepass.Tx) error {
	k, err := s.createKeyTx(ctx, tx, s.cfg.Algorithm, gatepass.AuditKeyCreated, "")
	if err == nil {
		s.Logger.Info("signing key created", attrKeyID, k.ID, attrAlg, k.Algorithm)
	}
	return err
}

// createKeyTx retires the current keys, stores a new current one and records an
// audit event of kind for it.
//
// TODO(keys): encrypt private keys and the refresh secret at rest with a key from
// the environment, so a leaked database file alone cannot mint tokens.
// TODO(keys): publish a new key one JWKS cache lifetime before it signs, so
// resource servers with a cached JWKS never meet an unknown kid.
func (s *Service) createKeyTx(ctx context.Context, tx gatepass.Tx,
	alg, kind, reason string) (*gatepass.SigningKey, error) {
	if !slices.Contains(token.Algorithms, alg) {
		return nil, gatepass.Errorf(gatepass.EINVALID, "alg must be one of %v",
			token.Algorithms)
	}
	key, err := token.GenerateKey(alg, s.Rand)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	private, err := key.MarshalPrivate()
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}

	now := s.now()
	if err := tx.RetireKeys(ctx, now); err != nil {
		return nil, err
	}
	k := &gatepass.SigningKey{
		ID:        key.ID,
		Algorithm: key.Algorithm,
		Private:   private,
		CreatedAt: now,
	}
	if err := tx.CreateKey(ctx, k); err != nil {
		return nil, err
	}
	return k, s.record(ctx, tx, Client{}, &gatepass.AuditEvent{OccurredAt: now,
		Kind: kind, Reason: reason, Detail: "kid=" + k.ID + " alg=" + k.Algorithm})
}

// FindKeys lists the stored signing keys, oldest first.
func (s *Service) FindKeys(ctx context.Context) ([]KeyInfo, error) {
	var keys []*gatepass.SigningKey
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		keys, err = tx.FindKeys(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}

	infos := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		infos = append(infos, s.keyInfo(k))
	}
	return infos, nil
}

func (s *Service) keyInfo(k *gatepass.SigningKey) KeyInfo {
	info := KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
		RetiredAt: k.RetiredAt}
	if !k.Current() {
		info.PublishedUntil = s.publishedUntil(k)
	}
	return info
}

// publishedUntil is when a retired key can no longer have signed a valid token.
func (s *Service) publishedUntil(k *gatepass.SigningKey) time.Time {
	return k.RetiredAt.Add(s.cfg.KeyReloadInterval + s.cfg.AccessTTL + s.cfg.Leeway)
}

// ReloadKeys reads the keys from the store and swaps in a new signer, verifier and
// JWKS. The server calls it periodically so a rotation made by another process or
// instance is picked up.
func (s *Service) ReloadKeys(ctx context.Context) error {
	var stored []*gatepass.SigningKey
	err := s.store.View(ctx, func(tx gatepass.Tx) error {
		var err error
		stored, err = tx.FindKeys(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("load keys: %w", err)
	}

	ring, err := s.buildKeyring(stored)
	if err != nil {
		return err
	}
	s.keys.Store(ring)
	return nil
}

// buildKeyring turns stored keys into a keyring: the current key signs, and it and
// every retired key whose tokens may still be alive verify and are published.
func (s *Service) buildKeyring(stored []*gatepass.SigningKey) (*keyring, error) {
	now := s.now()
	ring := &keyring{}
	var verifying []*token.Key
	var algs []string

	for _, sk := range stored {
		if !sk.Current() && !now.Before(s.publishedUntil(sk)) {
			continue
		}
		key, err := token.ParseKey(sk.ID, sk.Algorithm, sk.Private)
		if err != nil {
			return nil, fmt.Errorf("parse key %s: %w", sk.ID, err)
		}
		verifying = append(verifying, key)
		ring.verifying = append(ring.verifying, sk)
		if !slices.Contains(algs, sk.Algorithm) {
			algs = append(algs, sk.Algorithm)
		}

		if sk.Current() {
			signer, err := token.NewSigner(key)
			if err != nil {
				return nil, fmt.Errorf("signer for key %s: %w", sk.ID, err)
			}
			ring.signer, ring.kid = signer, sk.ID
		}
	}
	if ring.signer == nil {
		return nil, fmt.Errorf("no current signing key in the store")
	}

	// A periodic reload mostly finds the same keys: keep the cache then, or
	// every token would be checked in full again after each reload. Any change
	// starts an empty cache, so no token of a removed key is answered from it.
	if prev := s.keys.Load(); prev != nil && sameKeys(prev.verifying, ring.verifying) {
		ring.tokens = prev.tokens
	} else {
		verifier, err := token.NewVerifier(token.VerifierConfig{
			Keys:       verifying,
			Algorithms: algs,
			Issuer:     s.cfg.Issuer,
			Audience:   s.cfg.Audience,
			Leeway:     s.cfg.Leeway,
			Now:        func() time.Time { return s.Now() },
		})
		if err != nil {
			return nil, fmt.Errorf("build verifier: %w", err)
		}
		ring.tokens = token.NewCache(verifier, s.cfg.TokenCache)
	}

	jwks, err := token.MarshalJWKS(verifying)
	if err != nil {
		return nil, fmt.Errorf("marshal jwks: %w", err)
	}
	ring.jwks = jwks
	return ring, nil
}

// sameKeys reports whether a and b are the same keys in the same order.
func sameKeys(a, b []*gatepass.SigningKey) bool {
	return slices.EqualFunc(a, b, func(x, y *gatepass.SigningKey) bool {
		return x.ID == y.ID && x.Algorithm == y.Algorithm && bytes.Equal(x.Private, y.Private)
	})
}

// JWKS returns the published JSON Web Key Set: the public halves of the current key
// and of retired keys whose tokens may still be valid. Shared HS256 secrets are
// never published, so the set is empty when signing with HS256.
func (s *Service) JWKS() []byte {
	return s.keys.Load().jwks
}

// VerifyAccessToken checks an access token locally, without a database call, and
// returns its claims. Errors are token.ErrXxx sentinels with code EINVALIDTOKEN,
// and ErrTokenRevoked when Config.RevocationCheck is on and the token's session
// has been revoked.
//
// A token seen before is answered from the cache Config.TokenCache sizes, its
// times checked again; the revocation check runs on every call, hit or miss.
func (s *Service) VerifyAccessToken(tok string) (*gatepass.Claims, error) {
	c, err := s.keys.Load().tokens.Verify(tok)
	if err != nil {
		return nil, err
	} else if err := s.checkRevoked(c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyAccessTokenShared is VerifyAccessToken for a caller that only reads the
// claims, such as forward-auth on every request of an app: a token answered
// from the cache comes with the cache's own claims, shared with every other
// caller, which saves a copy. They must not be changed.
func (s *Service) VerifyAccessTokenShared(tok string) (*gatepass.Claims, error) {
	c, err := s.keys.Load().tokens.VerifyShared(tok)
	if err != nil {
		return nil, err
	} else if err := s.checkRevoked(c); err != nil {
		return nil, err
	}
	return c, nil
}
