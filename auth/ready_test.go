package auth_test

import (
	"context"
	"os"
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

func TestReady_sharedLimiterUp(t *testing.T) {
	url := os.Getenv("GATEPASS_TEST_REDIS")
	if url == "" {
		t.Skip("set GATEPASS_TEST_REDIS to run the Redis tests, e.g. redis://127.0.0.1:6379/0")
	}
	env := MustOpenEnv(t, nil)
	up := redis.NewLimiter(url, 10, time.Minute)
	if err := up.Open(); err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	env.Service.Limiter = up
	if err := env.Service.Ready(context.Background()); err != nil {
		t.Errorf("ready with Redis up: %v", err)
	}
}
