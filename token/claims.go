package token

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/gatepass/gatepass"
)

// decodeClaims decodes the claims of a token whose signature has been verified. It
// returns exactly what json.Unmarshal into a gatepass.Claims gives, with ErrMalformed
// for a JSON syntax error and ErrClaims for any other decoding error.
//
// Reflection makes json.Unmarshal the larger part of the cost of an HS256 token, so
// a fast path reads the payloads gatepass issues. It accepts only input whose
// meaning encoding/json leaves no room to doubt and hands everything else, such as
// escapes, null, duplicate or unknown members, to json.Unmarshal.
func decodeClaims(payload []byte) (*gatepass.Claims, error) {
	if c, ok := parseClaims(payload); ok {
		return c, nil
	}
	return unmarshalClaims(payload)
}

// unmarshalClaims decodes payload with encoding/json.
func unmarshalClaims(payload []byte) (*gatepass.Claims, error) {
	c := new(gatepass.Claims)
	if err := json.Unmarshal(payload, c); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, ErrMalformed
		}
		return nil, ErrClaims
	}
	return c, nil
}

// Claim members the fast path knows, as indexes into claimsParser.spans. They must
// match the json tags of gatepass.Claims; FuzzDecodeClaims compares the two.
const (
	claimIss = iota
	claimSub
	claimAud
	claimExp
	claimIat
	claimNbf
	claimJti
	claimSid
	claimScope
	claimClientID
	claimUsername
	numClaims
)

// claimIndex returns the index of the member called name, or -1. Only exact names
// count: encoding/json also matches names case-insensitively, so any other spelling
// is left to it.
func claimIndex(name []byte) int {
	switch string(name) {
	case "iss":
		return claimIss
	case "sub":
		return claimSub
	case "aud":
		return claimAud
	case "exp":
		return claimExp
	case "iat":
		return claimIat
	case "nbf":
		return claimNbf
	case "jti":
		return claimJti
	case "sid":
		return claimSid
	case "scope":
		return claimScope
	case "client_id":
		return claimClientID
	case "preferred_username":
		return claimUsername
	}
	return -1
}

// span is the position of a string's contents within the payload.
type span struct{ start, end int }

// maxAudiences is the longest "aud" array the fast path reads.
const maxAudiences = 4

// claimsParser reads one payload on the fast path. It records where each string
// lies, so that all of them can share a single copy of the payload at the end.
type claimsParser struct {
	data []byte
	pos  int

	seen  uint16 // bit i is set once member i has been read
	spans [numClaims]span
	ints  [numClaims]int64

	auds  [maxAudiences]span
	naud  int
	array bool // "aud" is an array
}

// claimsBox holds decoded claims and the backing array of a one-value audience,
// so that both take a single allocation.
type claimsBox struct {
	claims gatepass.Claims
	aud    [1]string
}

// parseClaims decodes payload if it is a JSON object whose members are all known
// claims, each present once, with strings free of escapes and valid UTF-8, times
// that are integers of at most 18 digits, and "aud" a string or a short non-empty
// array of such strings. On any other input it reports false.
func parseClaims(payload []byte) (*gatepass.Claims, bool) {
	p := claimsParser{data: payload}
	if !p.object() {
		return nil, false
	}

	// All strings share one copy of the payload.
	s := string(payload)
	box := new(claimsBox)
	c := &box.claims
	str := func(i int) string { return s[p.spans[i].start:p.spans[i].end] }
	c.Issuer, c.Subject, c.ID = str(claimIss), str(claimSub), str(claimJti)
	c.SessionID, c.Scope, c.ClientID = str(claimSid), str(claimScope), str(claimClientID)
	c.Username = str(claimUsername)
	c.ExpiresAt, c.IssuedAt, c.NotBefore = p.ints[claimExp], p.ints[claimIat], p.ints[claimNbf]

	switch {
	case p.seen&(1<<claimAud) == 0:
	case !p.array:
		box.aud[0] = s[p.auds[0].start:p.auds[0].end]
		c.Audience = box.aud[:]
	default:
		c.Audience = make(gatepass.Audience, p.naud)
		for i, a := range p.auds[:p.naud] {
			c.Audience[i] = s[a.start:a.end]
		}
	}
	return c, true
}

// object reads the whole payload: one object, with only whitespace around it.
func (p *claimsParser) object() bool {
	p.space()
	if !p.consume('{') {
		return false
	}
	p.space()
	if !p.consume('}') && !p.members() {
		return false
	}
	p.space()
	return p.pos == len(p.data)
}

// members reads the members of an object and its closing brace.
func (p *claimsParser) members() bool {
	for {
		name, ok := p.string()
		if !ok {
			return false
		}
		p.space()
		if !p.consume(':') {
			return false
		}
		p.space()
		if !p.member(claimIndex(p.data[name.start:name.end])) {
			return false
		}

		p.space()
		if p.consume('}') {
			return true
		} else if !p.consume(',') {
			return false
		}
		p.space()
	}
}

// member reads the value of claim i. It refuses unknown and repeated members:
// encoding/json keeps the last of several, which is left to it.
func (p *claimsParser) member(i int) bool {
	if i < 0 || p.seen&(1<<i) != 0 {
		return false
	}
	p.seen |= 1 << i

	var ok bool
	switch i {
	case claimExp, claimIat, claimNbf:
		p.ints[i], ok = p.integer()
	case claimAud:
		ok = p.audience()
	default:
		p.spans[i], ok = p.string()
	}
	return ok
}

// audience reads a string or an array of one to maxAudiences strings. An empty
// array is left to encoding/json, which makes it a non-nil empty Audience.
func (p *claimsParser) audience() bool {
	if !p.consume('[') {
		var ok bool
		p.auds[0], ok = p.string()
		p.naud = 1
		return ok
	}

	p.array = true
	for p.naud < maxAudiences {
		p.space()
		a, ok := p.string()
		if !ok {
			return false
		}
		p.auds[p.naud] = a
		p.naud++

		p.space()
		if p.consume(']') {
			return true
		} else if !p.consume(',') {
			return false
		}
	}
	return false
}

// string reads a JSON string that holds no escape, no control character and only
// valid UTF-8, which encoding/json decodes to its bytes unchanged, and returns
// where its contents lie.
func (p *claimsParser) string() (span, bool) {
	if !p.consume('"') {
		return span{}, false
	}
	start := p.pos
	ascii := true
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case plainByte[c]:
		case c == '"':
			sp := span{start, p.pos}
			p.pos++
			return sp, ascii || utf8.Valid(p.data[sp.start:sp.end])
		case c >= utf8.RuneSelf:
			ascii = false
		default: // a control character or a backslash
			return span{}, false
		}
		p.pos++
	}
	return span{}, false
}

// plainByte marks the ASCII bytes that stand for themselves in a JSON string.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// integer reads an optional minus sign and 1 to 18 digits without a leading zero,
// a number that fits in an int64. A longer number, or a fraction or exponent,
// leaves a digit, '.', 'e' or 'E' unread, which the caller rejects.
func (p *claimsParser) integer() (int64, bool) {
	neg := p.consume('-')
	start := p.pos
	var n int64
	for p.pos < len(p.data) && p.pos-start < 18 {
		c := p.data[p.pos]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
		p.pos++
		if n == 0 {
			break // a leading zero is a number of its own
		}
	}
	if p.pos == start {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// space skips JSON whitespace.
func (p *claimsParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// consume skips c if it is the next byte.
func (p *claimsParser) consume(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}
