package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
)

// referenceClaims decodes payload the way the verifier did before it had a fast
// path: json.Unmarshal, with syntax errors told apart from all others.
func referenceClaims(payload []byte) (*gatepass.Claims, error) {
	c := new(gatepass.Claims)
	if err := json.Unmarshal(payload, c); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, token.ErrMalformed
		}
		return nil, token.ErrClaims
	}
	return c, nil
}

// checkSameAsJSON fails t unless DecodeClaims gives for payload exactly what
// encoding/json gives, down to a nil or an empty Audience.
func checkSameAsJSON(t *testing.T, payload []byte) {
	t.Helper()
	got, gotErr := token.DecodeClaims(payload)
	want, wantErr := referenceClaims(payload)
	if gotErr != wantErr {
		t.Fatalf("DecodeClaims(%q): err = %v, want %v", payload, gotErr, wantErr)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("DecodeClaims(%q): claims (-got +want):\n%s", payload, diff)
	}
	if got != nil && (got.Audience == nil) != (want.Audience == nil) {
		t.Errorf("DecodeClaims(%q): Audience = %#v, want %#v", payload, got.Audience, want.Audience)
	}
}

// issuedPayload returns the payload Sign writes for testClaims.
func issuedPayload(tb testing.TB) string {
	tb.Helper()
	data, err := json.Marshal(testClaims())
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// claimsInputs are payloads at the edges of what the fast path reads. fast says
// whether it reads them itself; everything else goes to encoding/json.
var claimsInputs = []struct {
	name    string
	payload string
	fast    bool
}{
	{name: "empty-object", payload: `{}`, fast: true},
	{name: "whitespace", payload: " \t\r\n{ \"sub\" :\n\"1\" , \"exp\"\t: 2 }\r\n ", fast: true},
	{name: "aud-array", payload: `{"aud":["a","b"]}`, fast: true},
	{name: "aud-array-of-one", payload: `{"aud":[ "a" ]}`, fast: true},
	{name: "aud-array-of-four", payload: `{"aud":["a","b","c","d"]}`, fast: true},
	{name: "aud-array-of-five", payload: `{"aud":["a","b","c","d","e"]}`},
	{name: "aud-empty-array", payload: `{"aud":[]}`},
	{name: "aud-array-trailing-comma", payload: `{"aud":["a",]}`},
	{name: "aud-array-with-null", payload: `{"aud":["a",null]}`},
	{name: "aud-array-of-numbers", payload: `{"aud":[1]}`},
	{name: "aud-null", payload: `{"aud":null}`},
	{name: "aud-null-after-string", payload: `{"aud":"a","aud":null}`},
	{name: "aud-number", payload: `{"aud":1}`},
	{name: "aud-object", payload: `{"aud":{"a":1}}`},
	{name: "utf8", payload: `{"sub":"José","preferred_username":"日本語"}`, fast: true},
	{name: "utf8-replacement-char", payload: "{\"sub\":\"\xef\xbf\xbd\"}", fast: true},
	{name: "utf8-invalid", payload: "{\"sub\":\"a\xffb\"}"},
	{name: "utf8-surrogate", payload: "{\"sub\":\"\xed\xa0\x80\"}"},
	{name: "utf8-overlong", payload: "{\"sub\":\"\xc0\xaf\"}"},
	{name: "utf8-truncated", payload: "{\"sub\":\"\xe6\x97\"}"},
	{name: "control-char", payload: "{\"sub\":\"a\tb\"}"},
	{name: "del-char", payload: "{\"sub\":\"a\x7fb\"}", fast: true},
	{name: "escape-unicode", payload: `{"sub":"\u0041"}`},
	{name: "escape-html", payload: `{"iss":"https://a.example/?a=1\u0026b=2"}`},
	{name: "escape-slash", payload: `{"iss":"https:\/\/a.example"}`},
	{name: "escape-lone-surrogate", payload: `{"sub":"\ud800"}`},
	{name: "escape-in-name", payload: `{"s\u0075b":"1"}`},
	{name: "duplicate", payload: `{"sub":"1","sub":"2"}`},
	{name: "duplicate-exp", payload: `{"exp":1,"exp":2}`},
	{name: "duplicate-aud", payload: `{"aud":["a","b"],"aud":"c"}`},
	{name: "name-upper-case", payload: `{"SUB":"1"}`},
	{name: "name-mixed-case-after-exact", payload: `{"sub":"1","Sub":"2"}`},
	{name: "name-long-s", payload: `{"ſub":"1"}`},
	{name: "name-kelvin", payload: "{\"\u212aid\":\"1\"}"},
	{name: "name-empty", payload: `{"":"1"}`},
	{name: "unknown-member", payload: `{"sub":"1","roles":["admin"]}`},
	{name: "unknown-nested", payload: `{"x":{"y":[1,{"z":null}]},"sub":"1"}`},
	{name: "null-string", payload: `{"sub":null}`},
	{name: "null-time", payload: `{"exp":null}`},
	{name: "bool-string", payload: `{"sub":true}`},
	{name: "string-time", payload: `{"exp":"1"}`},
	{name: "number-string", payload: `{"sub":1}`},
	{name: "zero", payload: `{"exp":0}`, fast: true},
	{name: "minus-zero", payload: `{"exp":-0}`, fast: true},
	{name: "negative", payload: `{"nbf":-5}`, fast: true},
	{name: "leading-zero", payload: `{"exp":01}`},
	{name: "minus-leading-zero", payload: `{"exp":-01}`},
	{name: "minus-alone", payload: `{"exp":-}`},
	{name: "plus", payload: `{"exp":+1}`},
	{name: "fraction", payload: `{"exp":1.0}`},
	{name: "fraction-zero", payload: `{"exp":0.5}`},
	{name: "exponent", payload: `{"exp":1e3}`},
	{name: "exponent-upper-case", payload: `{"exp":1E3}`},
	{name: "digits-18", payload: `{"exp":999999999999999999}`, fast: true},
	{name: "digits-18-negative", payload: `{"exp":-999999999999999999}`, fast: true},
	{name: "digits-19", payload: `{"exp":1000000000000000000}`},
	{name: "int64-max", payload: `{"exp":9223372036854775807}`},
	{name: "int64-overflow", payload: `{"exp":9223372036854775808}`},
	{name: "int64-min", payload: `{"exp":-9223372036854775808}`},
	{name: "trailing-data", payload: `{"sub":"1"}x`},
	{name: "trailing-object", payload: `{"sub":"1"}{}`},
	{name: "trailing-comma", payload: `{"sub":"1",}`},
	{name: "missing-colon", payload: `{"sub" "1"}`},
	{name: "missing-comma", payload: `{"sub":"1" "exp":1}`},
	{name: "unterminated", payload: `{"sub":"1"`},
	{name: "unterminated-string", payload: `{"sub":"1`},
	{name: "comma-only", payload: `{,}`},
	{name: "byte-order-mark", payload: "\xef\xbb\xbf{}"},
	{name: "null", payload: `null`},
	{name: "array", payload: `[]`},
	{name: "string", payload: `"claims"`},
	{name: "empty", payload: ``},
	{name: "single-quotes", payload: `{'sub':'1'}`},
}

func TestDecodeClaims(t *testing.T) {
	tests := append(claimsInputs, struct {
		name    string
		payload string
		fast    bool
	}{name: "issued", payload: issuedPayload(t), fast: true})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSameAsJSON(t, []byte(tt.payload))

			if _, got := token.ParseClaims([]byte(tt.payload)); got != tt.fast {
				t.Errorf("fast path = %t, want %t", got, tt.fast)
			}
		})
	}
}

// TestDecodeClaimsFastPathCoversIssuedClaims fails when gatepass.Claims gains a
// member the fast path does not know, which would silently send every token to
// the slow path.
func TestDecodeClaimsFastPathCoversIssuedClaims(t *testing.T) {
	var c gatepass.Claims
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		t.Fatal(err)
	}

	// Give every member a value of its type, including those omitted when empty.
	members["aud"] = json.RawMessage(`"a"`)
	members["scope"] = json.RawMessage(`"s"`)
	members["preferred_username"] = json.RawMessage(`"u"`)
	if payload, err = json.Marshal(members); err != nil {
		t.Fatal(err)
	}

	if _, ok := token.ParseClaims(payload); !ok {
		t.Errorf("the fast path does not read %s", payload)
	}
	checkSameAsJSON(t, payload)
}

// TestDecodeClaimsCopies checks that the claims share no memory with the payload,
// which Verify decodes into a buffer it reuses.
func TestDecodeClaimsCopies(t *testing.T) {
	payload := []byte(`{"iss":"i","sub":"s","aud":"a","jti":"j"}`)
	got, err := token.DecodeClaims(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := *got

	copy(payload, bytes.Repeat([]byte("x"), len(payload)))
	if diff := cmp.Diff(*got, want); diff != "" {
		t.Errorf("claims changed with the payload (-got +want):\n%s", diff)
	}
	if got.Subject != "s" || got.Audience[0] != "a" {
		t.Errorf("claims = %+v", got)
	}
}

// TestVerifyClaimsOutliveCall checks that claims returned by Verify stay intact
// while later calls reuse its buffers.
func TestVerifyClaimsOutliveCall(t *testing.T) {
	keys := mustLoadKeys(t)
	v := mustVerifier(t, testConfig(keys))

	var got []*gatepass.Claims
	for i, k := range keys {
		c := testClaims()
		c.Subject = strings.Repeat(k.Algorithm, i+1)
		claims, err := v.Verify(mustSign(t, k, c))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, claims)
	}

	for i, k := range keys {
		want := testClaims()
		want.Subject = strings.Repeat(k.Algorithm, i+1)
		if diff := cmp.Diff(got[i], want); diff != "" {
			t.Errorf("%s claims (-got +want):\n%s", k.Algorithm, diff)
		}
	}
}

// FuzzDecodeClaims checks that DecodeClaims, fast path or not, decodes every input
// exactly as encoding/json does.
func FuzzDecodeClaims(f *testing.F) {
	f.Add([]byte(issuedPayload(f)))
	f.Add([]byte(claimsJSON(f, func(m map[string]any) { m["aud"] = []string{"a", "api"} })))
	for _, tt := range claimsInputs {
		f.Add([]byte(tt.payload))
	}

	f.Fuzz(func(t *testing.T, payload []byte) {
		checkSameAsJSON(t, payload)
	})
}
