package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatepass/gatepass"
)

// Error codes that only the HTTP layer produces. They share the table below with
// the gatepass codes, so every error response is decided in one place.
const (
	codeInvalidClient        = "invalid_client"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeBodyTooLarge         = "body_too_large"
	codeMissingToken         = "missing_token"

	// codeCrossSite refuses a request that may have been forged by another site
	// (a failed CSRF token or origin check).
	codeCrossSite = "cross_site"

	// codeCookieGrant is a refresh cookie that is missing or dead. Unlike the
	// token endpoint, which RFC 6749 binds to 400, the cookie endpoint answers 401:
	// the browser holds no usable session any more.
	codeCookieGrant = "cookie_grant"
)

// statusClientClosedRequest is recorded, in nginx's convention, when the client went
// away before the answer was ready. Nobody receives it; it keeps the access log
// honest.
const statusClientClosedRequest = 499

// defaultRetryAfter is the wait advised by a 429 whose error names none.
const defaultRetryAfter = 60 * time.Second

// errorKind is how one error code is answered: the HTTP status and the "error"
// member of the body (RFC 6749 section 5.2, RFC 6750 section 3.1).
type errorKind struct {
	status int
	name   string
}

// errorKinds maps error codes to responses. A code missing here is internal.
//
// EUNAUTHORIZED comes only from sign-in and refresh, where RFC 6749 section 5.2 calls
// wrong credentials and dead refresh tokens invalid_grant, status 400.
var errorKinds = map[string]errorKind{
	gatepass.EINVALID:        {http.StatusBadRequest, "invalid_request"},
	gatepass.EUNAUTHORIZED:   {http.StatusBadRequest, "invalid_grant"},
	gatepass.EINVALIDSCOPE:   {http.StatusBadRequest, "invalid_scope"},
	gatepass.EUNSUPPORTED:    {http.StatusBadRequest, "invalid_request"},
	gatepass.EINVALIDTOKEN:   {http.StatusUnauthorized, "invalid_token"},
	gatepass.EFORBIDDEN:      {http.StatusForbidden, "access_denied"},
	gatepass.ENOTFOUND:       {http.StatusNotFound, "not_found"},
	gatepass.ECONFLICT:       {http.StatusConflict, "conflict"},
	gatepass.ETOOMANY:        {http.StatusTooManyRequests, "too_many_requests"},
	gatepass.EUNAVAILABLE:    {http.StatusServiceUnavailable, "temporarily_unavailable"},
	codeInvalidClient:        {http.StatusUnauthorized, "invalid_client"},
	codeUnsupportedGrantType: {http.StatusBadRequest, "unsupported_grant_type"},
	codeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "invalid_request"},
	codeBodyTooLarge:         {http.StatusRequestEntityTooLarge, "invalid_request"},
	codeMissingToken:         {http.StatusUnauthorized, "unauthorized"},
	codeCrossSite:            {http.StatusForbidden, "invalid_request"},
	codeCookieGrant:          {http.StatusUnauthorized, "invalid_grant"},
}

// internalError is the answer to anything without a known code. Its description is
// always generic: an unknown code says nothing about what its message may hold.
var internalError = errorKind{http.StatusInternalServerError, "server_error"}

// errorResponse is the body of every error response. Fields, when present, names
// each input field at fault, so a form can show the message beside it.
type errorResponse struct {
	Error       string            `json:"error"`
	Description string            `json:"error_description,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

// writeError answers a request with err. Only the client-safe message of a
// gatepass.Error reaches the client; anything else is logged in full and answered
// with a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	// A client that went away is not a server failure, and nobody reads the answer.
	if r.Context().Err() != nil {
		s.Logger.Debug("request canceled", attrRoute, r.Pattern, attrError, err)
		w.WriteHeader(statusClientClosedRequest)
		return
	}

	code := gatepass.ErrorCode(err)
	kind, ok := errorKinds[code]
	body := errorResponse{Error: kind.name, Description: gatepass.ErrorMessage(err),
		Fields: errorFields(err)}
	if !ok {
		s.Logger.Error("internal error", attrMethod, r.Method, attrRoute, r.Pattern,
			attrError, err)
		kind = internalError
		body = errorResponse{Error: kind.name, Description: "internal error"}
	}

	h := w.Header()
	switch code {
	case codeInvalidClient:
		h.Set("WWW-Authenticate", `Basic realm="gatepass"`)
	case codeMissingToken:
		h.Set("WWW-Authenticate", `Bearer realm="gatepass"`)
	case gatepass.EINVALIDTOKEN:
		h.Set("WWW-Authenticate", `Bearer realm="gatepass", error="invalid_token", `+
			`error_description="`+headerSafe(body.Description)+`"`)
	case gatepass.ETOOMANY:
		h.Set("Retry-After", retryAfterSeconds(err))
	}
	setNoStore(h)
	writeJSON(w, kind.status, body)
}

// retryAfterSeconds is the Retry-After value (RFC 9110 section 10.2.3) for an
// ETOOMANY error: its RetryAfter rounded up to whole seconds, at least 1, so a
// client that waits as told is not refused again for a fraction of a second.
func retryAfterSeconds(err error) string {
	d := defaultRetryAfter
	var e *gatepass.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		d = e.RetryAfter
	}
	secs := max(int64((d+time.Second-1)/time.Second), 1)
	return strconv.FormatInt(secs, 10)
}

// errorFields returns the field messages of the first *gatepass.Error in err's
// chain. Like Message, they are written for the client.
func errorFields(err error) map[string]string {
	var e *gatepass.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// headerSafe keeps only the characters RFC 6750 section 3 allows in a quoted
// error_description, so a message can never break the header.
func headerSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return -1
		}
		return c
	}, s)
}

// writeJSON writes v as the JSON body of a response with the given status,
// followed by a newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	enc := jsonEncoders.Get().(*jsonEncoder)
	enc.buf.Reset()
	b := internalErrorJSON
	if err := enc.enc.Encode(v); err == nil {
		b = enc.buf.Bytes()
	} else {
		// Only the package's own response types get here, and they always encode.
		status = http.StatusInternalServerError
	}

	writeJSONBody(w, status, b)
	if enc.buf.Cap() <= maxPooledJSON {
		jsonEncoders.Put(enc)
	}
}

// writeJSONBody writes b, JSON ending in a newline, as the body of a response
// with the given status.
func writeJSONBody(w http.ResponseWriter, status int, b []byte) {
	setValue(w.Header(), "Content-Type", valueJSON)
	w.WriteHeader(status)
	w.Write(b)
}

// mustJSON returns v as writeJSON writes it, for bodies made once at start.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// internalErrorJSON is the body writeJSON sends when a value does not encode.
var internalErrorJSON = []byte(`{"error":"server_error"}` + "\n")

// jsonEncoder is a JSON encoder with the buffer it writes to, kept between
// requests in jsonEncoders. It encodes as json.Marshal does, HTML escaping
// included, and ends each value with a newline.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// maxPooledJSON bounds the buffers kept in jsonEncoders, so that one large
// answer does not pin its memory.
const maxPooledJSON = 16 << 10

// jsonEncoders holds jsonEncoders between requests.
var jsonEncoders = sync.Pool{New: func() any {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// handleNotFound answers every request no route matches: 405 with Allow when the
// path exists under other methods, the Fallback for other GET and HEAD requests,
// 404 otherwise. Registering this catch-all stops ServeMux from answering 405
// itself, so it is done here, with a JSON body.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	allowed := s.allowedMethods(r)
	readOnly := r.Method == http.MethodGet || r.Method == http.MethodHead
	if len(allowed) == 0 && readOnly && s.Fallback != nil {
		s.Fallback.ServeHTTP(w, r)
		return
	} else if len(allowed) == 0 {
		writeNotFound(w)
		return
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, errorResponse{Error: "method_not_allowed"})
}

// writeNotFound answers 404 for a path that serves nothing.
func writeNotFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, errorResponse{Error: "not_found"})
}

// probedMethods are the methods handleNotFound tries when it builds an Allow header.
var probedMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// allowedMethods lists the methods under which some route other than the
// catch-all, and not switched off, matches r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range probedMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		_, pattern := s.mux.Handler(probe)
		if pattern != "" && pattern != "/" && !s.switchedOff(pattern) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// switchedOff reports whether pattern belongs to a feature the settings leave
// off. Its handler answers as for an unknown path, and so does any other method
// on its path: a 405 would tell that the feature exists.
func (s *Server) switchedOff(pattern string) bool {
	switch {
	case pattern == "POST /auth/signup":
		return !s.AllowSignUp
	case strings.HasPrefix(pattern, "POST /api/token/"):
		return !s.SimpleJWTCompat
	case pattern == "GET /metrics":
		return s.Metrics == nil
	}
	return false
}
