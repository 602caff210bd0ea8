package gatepass

import (
	"errors"
	"fmt"
	"time"
)

// Error codes shared by every layer. The HTTP layer maps each to a status in one table.
const (
	ECONFLICT     = "conflict"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ETOOMANY      = "too_many_requests"
	EUNAUTHORIZED = "unauthorized"
	EUNAVAILABLE  = "unavailable"
	EUNSUPPORTED  = "unsupported"
	EINVALIDSCOPE = "invalid_scope"
	EINVALIDTOKEN = "invalid_token"
)

// Error is an error a caller may see. Message is safe to show to a client: it never
// holds a token, a password or internal detail. Errors without a code are internal.
type Error struct {
	Code    string
	Message string

	// Fields, when set, names each input field at fault with a message a form can
	// show beside it, such as {"password": "password is too common"}.
	Fields map[string]string

	// RetryAfter, when positive, is how long an ETOOMANY caller should wait
	// before trying again; the HTTP layer sends it as Retry-After.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("gatepass error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: msg, Fields: map[string]string{field: msg}}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err, or a generic one for
// internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Errors returned by the token service. Each carries a code and a message that is
// safe for clients. Sign-in failures deliberately share one message so that an
// unknown user, a wrong password and a disabled account look alike.
var (
	ErrInvalidCredentials = &Error{Code: EUNAUTHORIZED, Message: "invalid username or password"}
	ErrInvalidGrant       = &Error{Code: EUNAUTHORIZED,
		Message: "refresh token is invalid, expired or revoked"}
	ErrInvalidScope = &Error{Code: EINVALIDSCOPE, Message: "requested scope is not allowed"}
	ErrInvalidToken = &Error{Code: EINVALIDTOKEN,
		Message: "access token is invalid or expired"}
)
