package main

import (
	"encoding/base32"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"
)

// sessionsByUser is how many bulk sessions each bulk user owns.
const sessionsByUser = 10

// seedPlan says what a seeder puts into a new database. Both engines get the
// same shapes: the accounts first, then one bulk user per sessionsByUser
// sessions, then the sessions with one refresh token each.
type seedPlan struct {
	// Sessions is how many sessions to create, each with one refresh token;
	// the first Expired of them are past their expiry, session and token.
	Sessions int
	Expired  int

	// Accounts are the names that load.Run signs in as, all with PasswordHash.
	Accounts     []string
	PasswordHash string
}

// bulkUsers is how many users own the bulk sessions.
func bulkUsers(sessions int) int {
	return max(1, sessions/sessionsByUser)
}

// userNames returns the accounts' names and then the bulk users' names, in the
// order they are inserted, so the nth name gets user id n+1.
func (p seedPlan) userNames() []string {
	names := append([]string(nil), p.Accounts...)
	for i := range bulkUsers(p.Sessions) {
		names = append(names, fmt.Sprintf("user-%d", i+1))
	}
	return names
}

// bulkSession is one seeded session and its only refresh token.
type bulkSession struct {
	ID     string
	UserID int64
	Hash   [32]byte

	Created, SessionEnd, TokenEnd time.Time
}

// sessions yields sessions from to to-1 of the plan, dated from now. Session i
// belongs to the (i % users)th bulk user.
func (p seedPlan) sessions(from, to int, now time.Time) iter.Seq[bulkSession] {
	return func(yield func(bulkSession) bool) {
		// Ids and token hashes look like the real ones: random, so the
		// primary-key B-trees grow as they do in service. The generator is
		// seeded for speed.
		rng := rand.NewChaCha8([32]byte{byte(from), byte(from >> 8), byte(from >> 16)})
		enc := base32.StdEncoding.WithPadding(base32.NoPadding)
		firstUser := int64(len(p.Accounts) + 1)
		users := int64(bulkUsers(p.Sessions))

		for i := from; i < to; i++ {
			s := bulkSession{UserID: firstUser + int64(i)%users,
				Created: now.Add(-time.Hour), SessionEnd: now.Add(29 * 24 * time.Hour),
				TokenEnd: now.Add(7 * 24 * time.Hour)}
			if i < p.Expired {
				s.Created, s.SessionEnd, s.TokenEnd = now.Add(-40*24*time.Hour),
					now.Add(-10*24*time.Hour), now.Add(-10*24*time.Hour)
			}

			var id [16]byte
			rng.Read(id[:])
			rng.Read(s.Hash[:])
			s.ID = strings.ToLower(enc.EncodeToString(id[:]))
			if !yield(s) {
				return
			}
		}
	}
}
