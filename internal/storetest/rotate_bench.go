package storetest

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
)

// BenchmarkRotate measures one refresh-token rotation on s: the statements the
// auth package runs in its rotation transaction, in the same order (lock the
// token's session and read the token with its session and user, rotate the
// token, record the audit event). s must be fresh and empty.
func BenchmarkRotate(b *testing.B, s gatepass.Store) {
	ctx := b.Context()
	u := &gatepass.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	sess := &gatepass.Session{ID: "bench-session", ClientID: "web", Scope: "openid",
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
	err := s.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		sess.UserID = u.ID
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, benchToken(sess.ID, 0))
	})
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	gen := 0
	for b.Loop() {
		err := s.Update(ctx, func(tx gatepass.Tx) error {
			return rotateOnce(tx, b, benchToken(sess.ID, gen).Hash, gen)
		})
		if err != nil {
			b.Fatal(err)
		}
		gen++
	}
}

// rotateOnce runs one rotation of the token with hash at generation gen.
func rotateOnce(tx gatepass.Tx, b *testing.B, hash []byte, gen int) error {
	ctx := b.Context()
	at := now.Add(time.Duration(gen+1) * time.Millisecond)
	rt, sess, u, err := tx.LockRefreshToken(ctx, hash)
	if err != nil {
		return err
	}

	next := benchToken(sess.ID, gen+1)
	next.CreatedAt = at
	if err := tx.RotateRefreshToken(ctx, rt.Hash, next); err != nil {
		return err
	}
	return tx.CreateAuditEvent(ctx, &gatepass.AuditEvent{OccurredAt: at,
		Kind: gatepass.AuditRefresh, UserID: u.ID, Username: u.Name, SessionID: sess.ID})
}

// benchToken returns the refresh token of generation gen in session id.
func benchToken(id string, gen int) *gatepass.RefreshToken {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(gen))
	hash := sha256.Sum256(append([]byte(id), seed[:]...))
	return &gatepass.RefreshToken{Hash: hash[:], SessionID: id, Generation: int64(gen),
		CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)}
}
