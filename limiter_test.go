package gatepass_test

import (
	"testing"
	"time"

	"github.com/gatepass/gatepass"
)

func TestLockoutPolicy_Delay(t *testing.T) {
	def := gatepass.DefaultLockoutPolicy()
	odd := gatepass.LockoutPolicy{Free: 2, Base: 3 * time.Second, Max: 10 * time.Second,
		Forget: time.Minute}
	tests := []struct {
		name     string
		policy   gatepass.LockoutPolicy
		failures int
		want     time.Duration
	}{
		{name: "none", policy: def, failures: 0, want: 0},
		{name: "last-free", policy: def, failures: 5, want: 0},
		{name: "first-lock", policy: def, failures: 6, want: time.Second},
		{name: "doubles", policy: def, failures: 7, want: 2 * time.Second},
		{name: "tenth-lock", policy: def, failures: 15, want: 512 * time.Second},
		{name: "reaches-cap", policy: def, failures: 16, want: 15 * time.Minute},
		{name: "stays-at-cap", policy: def, failures: 1000, want: 15 * time.Minute},
		{name: "no-overflow", policy: def, failures: 1 << 40, want: 15 * time.Minute},
		{name: "address-last-free", policy: gatepass.DefaultAddressLockoutPolicy(),
			failures: 20, want: 0},
		{name: "address-first-lock", policy: gatepass.DefaultAddressLockoutPolicy(),
			failures: 21, want: time.Second},
		{name: "no-free-failures", policy: gatepass.LockoutPolicy{Base: time.Second,
			Max: time.Minute, Forget: time.Hour}, failures: 1, want: time.Second},
		{name: "cap-not-a-power-of-two", policy: odd, failures: 4, want: 6 * time.Second},
		{name: "cut-to-cap", policy: odd, failures: 5, want: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Delay(tt.failures); got != tt.want {
				t.Errorf("Delay(%d) = %s, want %s", tt.failures, got, tt.want)
			}
		})
	}
}

func TestLockoutPolicy_Validate(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *gatepass.LockoutPolicy)
		want   string // the error's code, "" for none
	}{
		{name: "default", change: func(p *gatepass.LockoutPolicy) {}},
		{name: "no-free-failures", change: func(p *gatepass.LockoutPolicy) { p.Free = 0 }},
		{name: "negative-free", change: func(p *gatepass.LockoutPolicy) { p.Free = -1 },
			want: gatepass.EINVALID},
		{name: "sub-millisecond-base", change: func(p *gatepass.LockoutPolicy) {
			p.Base = time.Microsecond
		}, want: gatepass.EINVALID},
		{name: "max-below-base", change: func(p *gatepass.LockoutPolicy) {
			p.Max = p.Base / 2
		}, want: gatepass.EINVALID},
		{name: "forget-before-lock-ends", change: func(p *gatepass.LockoutPolicy) {
			p.Forget = p.Max - time.Second
		}, want: gatepass.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := gatepass.DefaultLockoutPolicy()
			tt.change(&p)
			if got := gatepass.ErrorCode(p.Validate()); got != tt.want {
				t.Errorf("Validate() code = %q, want %q (err %v)", got, tt.want, p.Validate())
			}
		})
	}
}
