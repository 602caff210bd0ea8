package httpapi

// The endpoints in this file speak the wire format of djangorestframework-simplejwt
// (simplejwt below), so that a front end written for a Django REST framework
// backend keeps working when gatepass takes over sign-in. Paths, request fields,
// answers and error bodies follow simplejwt's views and serializers and DRF's
// parsers and exception handler; the tokens are gatepass's own.
//
// No endpoint here reads a cookie, so none needs a CSRF defence: a form another
// site posts through the user's browser carries nothing of the user's, and the
// answer, with any token in it, stays unreadable to that site.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/token"
)

// Messages of simplejwt and DRF, word for word, so that a front end that shows or
// matches them behaves as before.
const (
	// simplejwt's TokenObtainSerializer, for a wrong password, an unknown user and
	// a disabled account alike. It is raised as DRF's own AuthenticationFailed,
	// whose body has no "code" member.
	detailNoActiveAccount = "No active account found with the given credentials"

	// simplejwt's Token for a JWT that does not decode or verify, for one past
	// its "exp", and for a token of the wrong kind, such as an access token sent
	// to the refresh view. Older releases said "Token is invalid or expired" for
	// both of the first two; current ones tell them apart.
	detailTokenInvalid   = "Token is invalid"
	detailTokenExpired   = "Token is expired"
	detailTokenWrongType = "Token has wrong type"

	// simplejwt's word for a refresh token that was rotated away or whose
	// session was blacklisted (in gatepass: revoked).
	detailTokenBlacklisted = "Token is blacklisted"

	// detailRefreshDead answers a refresh token the verify and blacklist views
	// find not live. It is simplejwt's InvalidToken default: those views only
	// ask whether the token is the session's current one, not why it is not.
	detailRefreshDead = "Token is invalid or expired"

	// codeTokenNotValid is the "code" member of every simplejwt token error.
	codeTokenNotValid = "token_not_valid"

	// DRF's field messages (CharField, Field and the null-character validator).
	msgRequired  = "This field is required."
	msgNull      = "This field may not be null."
	msgBlank     = "This field may not be blank."
	msgNotString = "Not a valid string."
	msgNullChar  = "Null characters are not allowed."

	// detailServerError is DRF's APIException default, for internal failures.
	detailServerError = "A server error occurred."
)

// simpleJWTRealm is the WWW-Authenticate challenge of simplejwt's views on a 401:
// the first AUTH_HEADER_TYPES entry and the realm "api".
const simpleJWTRealm = `Bearer realm="api"`

// drfError is an answer in the shape DRF gives errors: {"detail": ...} for a
// request-level failure, {"field": ["message"]} for invalid fields, and
// {"detail", "code"} for simplejwt's token errors.
type drfError struct {
	status int
	body   any

	// retryAfter is the Retry-After value of a 429, in whole seconds.
	retryAfter string
}

// Error implements the error interface for logs; clients get body.
func (e *drfError) Error() string {
	return fmt.Sprintf("simplejwt error: status %d", e.status)
}

// drfDetail is the {"detail": msg} error of DRF's exception handler.
func drfDetail(status int, msg string) *drfError {
	return &drfError{status: status, body: map[string]string{"detail": msg}}
}

// tokenNotValid is simplejwt's InvalidToken: 401 with detail and code.
func tokenNotValid(detail string) *drfError {
	return &drfError{status: http.StatusUnauthorized,
		body: map[string]string{"detail": detail, "code": codeTokenNotValid}}
}

// fieldErrors collects DRF field errors: each field names a list of messages.
type fieldErrors map[string][]string

// err returns the 400 answer for the collected errors, or nil if there are none.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &drfError{status: http.StatusBadRequest, body: map[string][]string(fe)}
}

// simpleJWTPair is the answer of the obtain view: refresh first, as simplejwt
// writes it.
type simpleJWTPair struct {
	Refresh string `json:"refresh"`
	Access  string `json:"access"`
}

// simpleJWTRefreshed is the answer of the refresh view with ROTATE_REFRESH_TOKENS,
// which gatepass always does: access first, as simplejwt writes it.
type simpleJWTRefreshed struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// handleSimpleJWTObtain is simplejwt's TokenObtainPairView: a username and a
// password in, a new session's refresh and access tokens out. Sign-in goes through
// auth.Service.Login exactly as the password grant does, with its rate limits and
// its single answer for every kind of wrong credentials.
func (s *Server) handleSimpleJWTObtain(w http.ResponseWriter, r *http.Request) {
	if !s.SimpleJWTCompat {
		writeNotFound(w)
		return
	}
	data, err := s.decodeSimpleJWT(w, r)
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	username, password, err := obtainFields(data)
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}

	pair, err := s.svc.Login(r.Context(), auth.LoginRequest{
		Username: username,
		Password: password,
		Client:   simpleJWTClient(r),
	})
	if gatepass.ErrorCode(err) == gatepass.EUNAUTHORIZED {
		err = &drfError{status: http.StatusUnauthorized,
			body: map[string]string{"detail": detailNoActiveAccount}}
	}
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	writeSimpleJWTTokens(w, simpleJWTPair{Refresh: pair.RefreshToken,
		Access: pair.AccessToken})
}

// obtainFields reads the credentials as simplejwt's serializer does: both are
// DRF CharFields, which trim white space and refuse blank values. The password
// is checked for blankness trimmed but passed on as sent, so that a password
// that works at /oauth/token works here too.
func obtainFields(data map[string]any) (username, password string, err error) {
	fe := fieldErrors{}
	username, _ = charField(fe, data, "username")
	_, password = charField(fe, data, "password")
	return username, password, fe.err()
}

// handleSimpleJWTRefresh is simplejwt's TokenRefreshView with rotation and
// blacklisting after rotation on, which is how gatepass always works. It calls
// auth.Service.Refresh like the refresh_token grant, so the reuse interval and
// reuse detection apply unchanged: a rotated token presented after the interval
// revokes the whole session.
func (s *Server) handleSimpleJWTRefresh(w http.ResponseWriter, r *http.Request) {
	if !s.SimpleJWTCompat {
		writeNotFound(w)
		return
	}
	refresh, err := s.decodeSimpleJWTToken(w, r, "refresh")
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	if err := s.refuseAccessToken(refresh); err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}

	pair, err := s.svc.Refresh(r.Context(), auth.RefreshRequest{
		RefreshToken: refresh,
		Client:       simpleJWTClient(r),
	})
	if gatepass.ErrorCode(err) == gatepass.EUNAUTHORIZED {
		err = tokenNotValid(refreshRefusalDetail(err))
	}
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	writeSimpleJWTTokens(w, simpleJWTRefreshed{Access: pair.AccessToken,
		Refresh: pair.RefreshToken})
}

// refreshRefusalDetail words a refused refresh token as simplejwt does:
// "blacklisted" for one rotated away (reuse, which has now revoked its session)
// or of a revoked session, "expired" for one past its own or its session's
// lifetime, and "invalid" for the rest.
func refreshRefusalDetail(err error) string {
	var refusal *auth.RefreshError
	if !errors.As(err, &refusal) {
		return detailTokenInvalid
	}
	switch refusal.Reason {
	case auth.RefusedReused, auth.RefusedSessionRevoked:
		return detailTokenBlacklisted
	case auth.RefusedTokenExpired, auth.RefusedSessionExpired:
		return detailTokenExpired
	}
	return detailTokenInvalid
}

// handleSimpleJWTVerify is simplejwt's TokenVerifyView: 200 {} for a valid token
// of either kind, 401 otherwise. An access token is verified locally, as simplejwt
// verifies a JWT, so one whose session was revoked still passes until it expires.
// A refresh token is looked up without side effects: it passes only while it is
// the session's current token, nothing in the session is touched, and it is never
// rotated, so asking cannot set off reuse detection.
//
// simplejwt's serializer answers a blacklisted refresh token with a 400
// {"non_field_errors": [...]}, against its own documentation, which promises 200
// or 401. gatepass keeps to the documented 401: it cannot tell a blacklisted token
// from an unknown one, and a client that checks for success sees no difference.
//
// Like simplejwt's, the endpoint tells whoever holds a token whether it is still
// live. It tells nothing to anyone else: refresh tokens carry 256 random bits.
func (s *Server) handleSimpleJWTVerify(w http.ResponseWriter, r *http.Request) {
	if !s.SimpleJWTCompat {
		writeNotFound(w)
		return
	}
	tok, err := s.decodeSimpleJWTToken(w, r, "token")
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}

	if looksLikeJWT(tok) {
		_, err = s.svc.VerifyAccessToken(tok)
		if err != nil {
			s.logRejectedToken(r, gatepass.ErrorMessage(err))
			err = tokenNotValid(accessTokenDetail(err))
		}
	} else if live, lerr := s.liveRefreshToken(r, tok); lerr != nil {
		err = lerr
	} else if !live {
		err = tokenNotValid(detailRefreshDead)
	}
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}

// handleSimpleJWTBlacklist is simplejwt's TokenBlacklistView, the usual way a
// simplejwt front end signs out. simplejwt blacklists the one token it is given;
// gatepass revokes the session the token belongs to, which kills every token of
// it, as /oauth/revoke does.
//
// A refresh token that is no longer live gets simplejwt's 401, but its session is
// revoked all the same. In simplejwt, a tab that signs out with a token another
// tab has just rotated leaves the new token working; here the sign-out takes
// effect. A thief holding an old token gains nothing: presenting it to the
// refresh endpoint already ends the session.
func (s *Server) handleSimpleJWTBlacklist(w http.ResponseWriter, r *http.Request) {
	if !s.SimpleJWTCompat {
		writeNotFound(w)
		return
	}
	refresh, err := s.decodeSimpleJWTToken(w, r, "refresh")
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	if err := s.refuseAccessToken(refresh); err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}

	// Look first, then revoke whatever the token belongs to.
	live, err := s.liveRefreshToken(r, refresh)
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	err = s.svc.Revoke(clientContext(r), refresh, auth.HintRefreshToken)
	if err == nil && !live {
		err = tokenNotValid(detailRefreshDead)
	}
	if err != nil {
		s.writeSimpleJWTError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}

// refuseAccessToken answers an access token sent where a refresh token belongs as
// simplejwt does: "wrong type" for a valid one, "invalid" or "expired" for one that
// fails. gatepass refresh tokens never contain a dot, so anything else goes on.
func (s *Server) refuseAccessToken(tok string) error {
	if !looksLikeJWT(tok) {
		return nil
	}
	if _, err := s.svc.VerifyAccessToken(tok); err != nil {
		return tokenNotValid(accessTokenDetail(err))
	}
	return tokenNotValid(detailTokenWrongType)
}

// liveRefreshToken reports whether tok is a refresh token that would be accepted
// now. Introspection only reads the store.
func (s *Server) liveRefreshToken(r *http.Request, tok string) (bool, error) {
	in, err := s.svc.Introspect(r.Context(), tok, auth.HintRefreshToken)
	if err != nil {
		return false, err
	}
	return in.Active && in.TokenType == auth.HintRefreshToken, nil
}

// looksLikeJWT reports whether tok has the three segments of a compact JWS.
func looksLikeJWT(tok string) bool {
	return strings.Count(tok, ".") == 2
}

// accessTokenDetail is simplejwt's detail for a JWT that failed verification.
func accessTokenDetail(err error) string {
	if errors.Is(err, token.ErrExpired) {
		return detailTokenExpired
	}
	return detailTokenInvalid
}

// simpleJWTClient describes the caller. simplejwt's views ignore the
// Authorization header, and front ends often attach a stale Bearer token to every
// request, so unlike the token endpoint it is neither read nor refused here.
func simpleJWTClient(r *http.Request) auth.Client {
	return auth.Client{IPAddress: clientIP(r), UserAgent: r.UserAgent()}
}

// writeSimpleJWTTokens answers 200 with tokens, which must never be cached
// (RFC 6749 section 5.1).
func writeSimpleJWTTokens(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, v)
}

// writeSimpleJWTError answers err in DRF's shape. A *drfError is written as it
// is; a gatepass.Error gets the status of the shared table and its client-safe
// message as detail; anything else is logged in full and answered with DRF's
// generic server error.
func (s *Server) writeSimpleJWTError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		s.Logger.Debug("request canceled", attrRoute, r.Pattern, attrError, err)
		w.WriteHeader(statusClientClosedRequest)
		return
	}

	var de *drfError
	if !errors.As(err, &de) {
		de = s.drfErrorOf(r, err)
	}

	h := w.Header()
	if de.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", simpleJWTRealm)
	} else if de.retryAfter != "" {
		h.Set("Retry-After", de.retryAfter)
	}
	h.Set("Cache-Control", "no-store")
	writeJSON(w, de.status, de.body)
}

// drfErrorOf translates an error of auth.Service into DRF's shape.
func (s *Server) drfErrorOf(r *http.Request, err error) *drfError {
	code := gatepass.ErrorCode(err)
	if code == gatepass.ETOOMANY {
		return throttled(retryAfterSeconds(err))
	}
	if kind, ok := errorKinds[code]; ok {
		return drfDetail(kind.status, gatepass.ErrorMessage(err))
	}

	s.Logger.Error("internal error", attrMethod, r.Method, attrRoute, r.Pattern,
		attrError, err)
	return drfDetail(http.StatusInternalServerError, detailServerError)
}

// throttled is DRF's Throttled exception: 429, a detail that names the wait in
// whole seconds, and the same wait in Retry-After.
func throttled(secs string) *drfError {
	unit := "seconds"
	if secs == "1" {
		unit = "second"
	}
	de := drfDetail(http.StatusTooManyRequests,
		"Request was throttled. Expected available in "+secs+" "+unit+".")
	de.retryAfter = secs
	return de
}

// decodeSimpleJWTToken decodes a body whose only field is the named token.
func (s *Server) decodeSimpleJWTToken(w http.ResponseWriter, r *http.Request,
	field string) (string, error) {
	data, err := s.decodeSimpleJWT(w, r)
	if err != nil {
		return "", err
	}
	fe := fieldErrors{}
	tok, _ := charField(fe, data, field)
	return tok, fe.err()
}

// Media types DRF parses by default.
const (
	mediaJSON      = "application/json"
	mediaForm      = "application/x-www-form-urlencoded"
	mediaMultipart = "multipart/form-data"
)

// decodeSimpleJWT reads a request body the way DRF's default parsers do: JSON,
// form-encoded, or multipart (what a browser's FormData sends). An empty body is
// no data at all, whatever its type, so the fields are reported missing. Errors
// are *drfError values.
func (s *Server) decodeSimpleJWT(w http.ResponseWriter, r *http.Request) (map[string]any,
	error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes()))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, drfDetail(http.StatusRequestEntityTooLarge, "Request body is too large.")
	} else if err != nil {
		return nil, drfDetail(http.StatusBadRequest, "Request body could not be read.")
	}
	if len(body) == 0 {
		return map[string]any{}, nil
	}

	contentType := r.Header.Get("Content-Type")
	mediaType, mediaParams, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil && contentType != "":
		// DRF names the type it got. An unparsable one is not echoed: it could
		// hold anything.
		return nil, drfDetail(http.StatusUnsupportedMediaType,
			"Unsupported media type in request.")
	case mediaType == mediaJSON:
		return decodeSimpleJWTJSON(body)
	case mediaType == mediaForm:
		return decodeSimpleJWTForm(body)
	case mediaType == mediaMultipart:
		return decodeSimpleJWTMultipart(body, mediaParams["boundary"])
	}
	// ParseMediaType allows only token characters in the type, so echoing it
	// cannot break the JSON or inject markup.
	return nil, drfDetail(http.StatusUnsupportedMediaType,
		fmt.Sprintf("Unsupported media type %q in request.", mediaType))
}

// decodeSimpleJWTJSON parses a JSON body. Like DRF, it accepts any JSON value and
// leaves the fields to say what is wrong with them; unlike DRF, a parse error does
// not describe the input.
func decodeSimpleJWTJSON(body []byte) (map[string]any, error) {
	parseError := drfDetail(http.StatusBadRequest,
		"JSON parse error - request body is not valid JSON")
	if !utf8.Valid(body) {
		return nil, parseError
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, parseError
	} else if _, err := dec.Token(); err != io.EOF {
		return nil, parseError
	}

	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	// DRF's serializer refuses anything but an object, naming its Python type.
	msg := msgNull
	if v != nil {
		msg = "Invalid data. Expected a dictionary, but got " + pythonType(v) + "."
	}
	return nil, &drfError{status: http.StatusBadRequest,
		body: map[string][]string{"non_field_errors": {msg}}}
}

// pythonType names the Python type json.loads gives a JSON value.
func pythonType(v any) string {
	switch v := v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	}
	return "object"
}

// decodeSimpleJWTForm parses a form-encoded body. A repeated field keeps its last
// value, as Django's QueryDict does.
func decodeSimpleJWTForm(body []byte) (map[string]any, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, drfDetail(http.StatusBadRequest, "Form parse error - request body "+
			"is not a valid form")
	}
	data := make(map[string]any, len(values))
	for k, v := range values {
		data[k] = v[len(v)-1]
	}
	return data, nil
}

// decodeSimpleJWTMultipart parses a multipart/form-data body, keeping the last
// value of each field. File parts are skipped: no endpoint here takes a file.
// The whole body is already in memory and bounded, so each part is too.
func decodeSimpleJWTMultipart(body []byte, boundary string) (map[string]any, error) {
	malformed := drfDetail(http.StatusBadRequest,
		"Multipart form parse error - request body is not a valid multipart form")
	if boundary == "" {
		return nil, malformed
	}

	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	data := map[string]any{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return data, nil
		} else if err != nil {
			return nil, malformed
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, malformed
		}
		if part.FormName() != "" && part.FileName() == "" {
			data[part.FormName()] = string(value)
		}
	}
}

// charField reads a required DRF CharField from data, adding any error to fe. It
// returns the value trimmed, as DRF does, and as sent.
func charField(fe fieldErrors, data map[string]any, name string) (trimmed, raw string) {
	v, ok := data[name]
	msg := ""
	switch v := v.(type) {
	case string:
		raw = v
	case json.Number:
		raw = v.String()
	case nil:
		msg = msgRequired
		if ok {
			msg = msgNull
		}
	default:
		msg = msgNotString
	}

	trimmed = strings.TrimSpace(raw)
	if msg == "" && trimmed == "" {
		msg = msgBlank
	} else if msg == "" && strings.ContainsRune(raw, 0) {
		msg = msgNullChar
	}
	if msg != "" {
		fe[name] = []string{msg}
		return "", ""
	}
	return trimmed, raw
}
