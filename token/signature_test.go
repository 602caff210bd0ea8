package token_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass/token"
)

// der returns the bytes of a hex string with spaces.
func der(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestAppendRawSignature(t *testing.T) {
	r32, s32 := strings.Repeat("11", 32), strings.Repeat("22", 32)
	high := "80" + strings.Repeat("00", 31)
	tests := []struct {
		name string
		der  string
		want string // hex r || s; empty when the input must be refused
	}{
		{name: "full-size", der: "30 44 02 20" + r32 + "02 20" + s32, want: r32 + s32},
		{
			name: "top-bit-set",
			der:  "30 46 02 21 00" + high + "02 21 00" + high,
			want: high + high,
		},
		{
			name: "short-integers",
			der:  "30 06 02 01 01 02 01 7f",
			want: strings.Repeat("00", 31) + "01" + strings.Repeat("00", 31) + "7f",
		},
		{name: "zero-integer", der: "30 06 02 01 00 02 01 01"},
		{name: "empty-integer", der: "30 05 02 00 02 01 01"},
		{name: "negative-integer", der: "30 06 02 01 80 02 01 01"},
		{name: "needless-leading-zero", der: "30 07 02 02 00 01 02 01 01"},
		{name: "integer-too-long", der: "30 45 02 21 01" + r32 + "02 20" + s32},
		{name: "trailing-data", der: "30 07 02 01 01 02 01 01 00"},
		{name: "data-after-sequence", der: "30 06 02 01 01 02 01 01 00"},
		{name: "one-integer", der: "30 03 02 01 01"},
		{name: "three-integers", der: "30 09 02 01 01 02 01 01 02 01 01"},
		{name: "length-beyond-end", der: "30 06 02 01 01 02 05 01"},
		{name: "long-form-length", der: "30 81 06 02 01 01 02 01 01"},
		{name: "long-form-integer-length", der: "30 07 02 81 01 01 02 01 01"},
		{name: "not-a-sequence", der: "31 06 02 01 01 02 01 01"},
		{name: "not-an-integer", der: "30 06 04 01 01 02 01 01"},
		{name: "empty", der: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got, ok := token.AppendRawSignature(bytes.Clone(prefix), der(t, tt.der))
			if tt.want == "" {
				if ok {
					t.Errorf("accepted, got %x", got)
				}
				return
			}
			if !ok {
				t.Fatal("refused")
			}
			want := append(prefix, der(t, tt.want)...)
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("signature (-got +want):\n%s", diff)
			}
		})
	}
}

// FuzzAppendRawSignature checks that the DER reader accepts exactly the minimal
// encodings the verifier's converter writes, and that the two are inverses.
func FuzzAppendRawSignature(f *testing.F) {
	f.Add(der(f, "30 06 02 01 01 02 01 7f"))
	f.Add(der(f, "30 46 02 21 00 80"+strings.Repeat("00", 31)+"02 21 00 ff"+
		strings.Repeat("ff", 31)))
	f.Add(der(f, "30 07 02 02 00 01 02 01 01"))

	f.Fuzz(func(t *testing.T, in []byte) {
		raw, ok := token.AppendRawSignature(nil, in)
		if !ok {
			return
		}
		if len(raw) != 64 {
			t.Fatalf("raw signature is %d bytes", len(raw))
		}
		got, ok := token.AppendASN1Signature(nil, raw)
		if !ok {
			t.Fatalf("%x read as %x, which does not convert back", in, raw)
		}
		if !bytes.Equal(got, in) {
			t.Errorf("%x read as %x, which converts back to %x", in, raw, got)
		}
	})
}
