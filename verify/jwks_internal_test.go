package verify

// This test sits inside the package: the refresh pace is decided by timers, and
// checking it from outside would mean waiting for them.

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRefreshInterval(t *testing.T) {
	r := &remoteKeys{v: &Verifier{opts: options{minRefresh: time.Minute,
		maxRefresh: time.Hour}}}
	tests := []struct {
		name         string
		cacheControl []string
		fetchErr     error
		want         time.Duration
	}{
		{name: "gatepass", cacheControl: []string{"public, max-age=60"}, want: time.Minute},
		{name: "within-bounds", cacheControl: []string{"max-age=600"},
			want: 10 * time.Minute},
		{name: "below-shortest", cacheControl: []string{"max-age=5"}, want: time.Minute},
		{name: "above-longest", cacheControl: []string{"max-age=86400"}, want: time.Hour},
		{name: "huge", cacheControl: []string{"max-age=99999999999999999999"},
			want: 5 * time.Minute},
		{name: "overflowing", cacheControl: []string{"max-age=9223372036854775807"},
			want: time.Hour},
		{name: "quoted", cacheControl: []string{`max-age="120"`}, want: 2 * time.Minute},
		{name: "case-and-spaces", cacheControl: []string{"Public ,  MAX-AGE=300"},
			want: 5 * time.Minute},
		{name: "second-line", cacheControl: []string{"public", "max-age=900"},
			want: 15 * time.Minute},
		{name: "shared-cache-only", cacheControl: []string{"s-maxage=900"},
			want: 5 * time.Minute},
		{name: "no-header", want: 5 * time.Minute},
		{name: "no-store", cacheControl: []string{"no-store, max-age=900"},
			want: time.Minute},
		{name: "no-cache", cacheControl: []string{"max-age=900", "no-cache"},
			want: time.Minute},
		{name: "negative", cacheControl: []string{"max-age=-5"}, want: 5 * time.Minute},
		{name: "failed-fetch", cacheControl: []string{"max-age=900"},
			fetchErr: errors.New("get jwks: status 503"), want: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cache-Control": tt.cacheControl}

			got := r.interval(cacheMaxAge(h), tt.fetchErr)

			if got != tt.want {
				t.Errorf("interval = %s, want %s", got, tt.want)
			}
		})
	}
}
