package httpapi

// FuzzDecode sits inside the package to reach the two body decoders directly;
// FuzzRequests sends the same kinds of bodies through HTTP.

import (
	"encoding/json"
	"net/url"
	"regexp"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// decodeMessages matches every message the decoders may answer with. A key
// that is not one of knownParams is never named, so an error cannot echo the
// request.
var decodeMessages = regexp.MustCompile(`^(request body is not a JSON object|` +
	`request body is not a valid form|(parameter (grant_type|username|password|scope|` +
	`refresh_token|client_id|client_secret|token|token_type_hint|email)|a parameter) ` +
	`(must be a string|is repeated))$`)

// FuzzDecode feeds one body to the JSON and the form decoder of the OAuth
// endpoints, and checks each against the standard library: what the JSON
// decoder accepts, encoding/json decodes to the same strings; what the form
// decoder accepts, net/url parses to the same single values, and every form
// net/url parses without a repeated key is accepted. Refusals are EINVALID
// with one of the fixed messages.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"grant_type":"password","username":"alice","password":"pw"}`,
		`{"password":"a","pass\u0077ord":"b"}`,
		`{"a":null}`,
		`{"scope":["a","b"]}`,
		`{"a":"b"} {"c":"d"}`,
		`{"a":"\ud800"}`,
		`[]`,
		`"x"`,
		"grant_type=refresh_token&refresh_token=abc",
		"a=1&a=2",
		"a=%zz",
		"a;b=c",
		"=&&=x&y",
		"username=al%00ice&password=%E2%82%AC",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeJSONParams(body)
		if err != nil {
			checkDecodeError(t, "json", err)
		} else {
			var want map[string]string
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatalf("json: accepted %q, which encoding/json refuses: %v", body, err)
			}
			if diff := cmp.Diff(map[string]string(p), want); diff != "" {
				t.Errorf("json: %q (-got +want):\n%s", body, diff)
			}
		}

		p, err = decodeFormParams(body)
		values, parseErr := url.ParseQuery(string(body))
		repeatedKey := false
		for _, v := range values {
			repeatedKey = repeatedKey || len(v) > 1
		}
		switch {
		case err != nil && parseErr == nil && !repeatedKey:
			t.Errorf("form: refused %q, which net/url parses: %v", body, err)
		case err != nil:
			checkDecodeError(t, "form", err)
		case parseErr != nil || repeatedKey:
			t.Errorf("form: accepted %q, repeated or unparsable (%v)", body, parseErr)
		default:
			want := map[string]string{}
			for k, v := range values {
				want[k] = v[0]
			}
			if diff := cmp.Diff(map[string]string(p), want); diff != "" {
				t.Errorf("form: %q (-got +want):\n%s", body, diff)
			}
		}
	})
}

// checkDecodeError checks that err is a client error with a fixed message.
func checkDecodeError(t *testing.T, decoder string, err error) {
	t.Helper()
	if code := gatepass.ErrorCode(err); code != gatepass.EINVALID {
		t.Errorf("%s: code %q, want %q (%v)", decoder, code, gatepass.EINVALID, err)
	}
	if msg := gatepass.ErrorMessage(err); !decodeMessages.MatchString(msg) {
		t.Errorf("%s: message %q is not one of the fixed ones", decoder, msg)
	}
}
