package auth_test

import (
	"context"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

func cmpDiff(got, want any) string {
	return cmp.Diff(got, want)
}

func mustFindSession(tb testing.TB, env *Env, id string) *gatepass.Session {
	tb.Helper()
	var s *gatepass.Session
	err := env.Store.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		s, err = tx.FindSessionByID(context.Background(), id)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustFindSessions(tb testing.TB, env *Env) []*gatepass.Session {
	tb.Helper()
	var ss []*gatepass.Session
	err := env.Store.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		ss, err = tx.FindSessions(context.Background(), gatepass.SessionFilter{})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ss
}
