package gatepass_test

import (
	"encoding/json"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

func TestAudience_JSON(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    gatepass.Audience
		wantErr bool
		out     string
	}{
		{name: "string", json: `"api"`, want: gatepass.Audience{"api"}, out: `"api"`},
		{name: "array", json: ` ["a","b"]`, want: gatepass.Audience{"a", "b"},
			out: `["a","b"]`},
		{name: "number", json: `42`, wantErr: true},
		{name: "array-of-numbers", json: `[1]`, wantErr: true},
		{name: "broken-string", json: `"api`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got gatepass.Audience
			err := json.Unmarshal([]byte(tt.json), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
			out, err := json.Marshal(got)
			if err != nil || string(out) != tt.out {
				t.Errorf("marshal = %s, %v; want %s", out, err, tt.out)
			}
		})
	}
}

func TestClaims_HasScope(t *testing.T) {
	c := &gatepass.Claims{Scope: "profile  email"}
	if !c.HasScope("email") || !c.HasScope("profile") || c.HasScope("admin") ||
		c.HasScope("") {
		t.Errorf("HasScope wrong for %q", c.Scope)
	}
}

func TestErrorCode(t *testing.T) {
	wrapped := &wrapErr{gatepass.ErrInvalidGrant}
	if got := gatepass.ErrorCode(wrapped); got != gatepass.EUNAUTHORIZED {
		t.Errorf("code of wrapped error = %q", got)
	}
	if got := gatepass.ErrorMessage(errPlain); got != "internal error" {
		t.Errorf("message of a plain error = %q, want a generic one", got)
	}
	if gatepass.ErrorCode(nil) != "" || gatepass.ErrorCode(errPlain) != gatepass.EINTERNAL {
		t.Error("ErrorCode of nil or plain errors is wrong")
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "context: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

var errPlain = jsonError("disk on fire: /var/lib/secret")

type jsonError string

func (e jsonError) Error() string { return string(e) }
