package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/redis"
)

func TestReady_checksSharedLimiter(t *testing.T) {
	env := MustOpenEnv(t, nil)
	ctx := context.Background()
	if err := env.Service.Ready(ctx); err != nil {
		t.Fatalf("ready with the store alone: %v", err)
	}

	down := redis.NewLimiter("redis://127.0.0.1:1/0", 10, time.Minute)
	if err := down.Open(); err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	env.Service.Limiter = down
	if err := env.Service.Ready(ctx); gatepass.ErrorCode(err) != gatepass.EUNAVAILABLE {
		t.Errorf("ready with Redis down: err = %v, want EUNAVAILABLE", err)
	}
}
