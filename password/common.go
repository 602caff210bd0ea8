package password

import (
	_ "embed"
	"strings"

	"github.com/gatepass/gatepass"
)

// commonList is a small bundled list of passwords that attackers try first.
//
//go:embed common.txt
var commonList string

// common holds commonList's entries, lowercased.
var common = parseCommon(commonList)

func parseCommon(list string) map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}

// ErrTooCommon refuses a password from the bundled list of common passwords.
var ErrTooCommon = gatepass.FieldError("password",
	"password is too common; choose one that is harder to guess")

// ErrLikeName refuses a password that repeats the user's name or e-mail address.
var ErrLikeName = gatepass.FieldError("password",
	"password must not be your username or e-mail")

// ValidateNew checks a password someone chooses for themselves: the rules of
// Validate, not on the common-password list, and not equal to any of personal
// (the username, the e-mail address), ignoring case.
func ValidateNew(password string, personal ...string) error {
	if err := Validate(password); err != nil {
		return err
	}

	lower := strings.ToLower(password)
	if common[lower] {
		return ErrTooCommon
	}
	for _, p := range personal {
		if p != "" && lower == strings.ToLower(p) {
			return ErrLikeName
		}
	}
	return nil
}
