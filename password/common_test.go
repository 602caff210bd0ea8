package password_test

import (
	"errors"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/password"
)

func TestValidateNew(t *testing.T) {
	tests := []struct {
		name     string
		password string
		personal []string
		wantErr  error
	}{
		{name: "fine", password: "correct horse battery", wantErr: nil},
		{name: "common", password: "password123", wantErr: password.ErrTooCommon},
		{name: "common-any-case", password: "PassWord123", wantErr: password.ErrTooCommon},
		{name: "short", password: "abc", wantErr: password.ErrTooShort},
		{name: "username", password: "alice.smith", personal: []string{"Alice.Smith"},
			wantErr: password.ErrLikeName},
		{name: "email", password: "alice@example.com",
			personal: []string{"alice", "alice@example.com"}, wantErr: password.ErrLikeName},
		{name: "empty-personal-ignored", password: "quite-unusual-1",
			personal: []string{""}, wantErr: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := password.ValidateNew(tt.password, tt.personal...)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			var ge *gatepass.Error
			if err != nil && (!errors.As(err, &ge) || ge.Fields["password"] == "") {
				t.Errorf("err %v names no password field", err)
			}
		})
	}
}
