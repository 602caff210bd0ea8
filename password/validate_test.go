package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password string
		want     error
	}{
		{name: "eight-characters", password: "abcdefgh"},
		{name: "passphrase", password: "correct horse battery staple"},
		{name: "eight-multibyte-characters", password: "ééééçççç"},
		{name: "max-length", password: strings.Repeat("a", password.MaxLength)},
		{name: "empty", password: "", want: password.ErrTooShort},
		{name: "seven-characters", password: "abcdefg", want: password.ErrTooShort},
		{name: "seven-multibyte-characters", password: "ééééççç", want: password.ErrTooShort},
		{
			name:     "too-long",
			password: strings.Repeat("a", password.MaxLength+1),
			want:     password.ErrTooLong,
		},
		{name: "invalid-utf8", password: "abcdefgh\xff", want: password.ErrNotUTF8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := password.Validate(tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want != nil && gatepass.ErrorCode(err) != gatepass.EINVALID {
				t.Errorf("got code %q, want %q", gatepass.ErrorCode(err), gatepass.EINVALID)
			}
		})
	}
}

func TestValidate_messages(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{name: "too-short", err: password.ErrTooShort,
			want: "password must be at least 8 characters"},
		{name: "too-long", err: password.ErrTooLong,
			want: "password must be at most 1024 bytes"},
		{name: "not-utf8", err: password.ErrNotUTF8, want: "password must be valid UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := gatepass.ErrorMessage(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
