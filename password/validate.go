package password

import "unicode/utf8"

// MinLength is the fewest characters (Unicode code points) Validate accepts,
// the minimum NIST SP 800-63B sets for passwords a user chooses.
const MinLength = 8

// Validate checks a password a user or an admin chose: valid UTF-8, at least
// MinLength characters and at most MaxLength bytes. It returns ErrTooLong,
// ErrNotUTF8 or ErrTooShort, whose messages can be shown as they are.
func Validate(password string) error {
	if len(password) > MaxLength {
		return ErrTooLong
	} else if !utf8.ValidString(password) {
		return ErrNotUTF8
	} else if utf8.RuneCountInString(password) < MinLength {
		return ErrTooShort
	}
	return nil
}
