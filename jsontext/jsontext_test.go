package jsontext

import (
	"bytes"
	"encoding/json"
	"testing"
)

func stdlib(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
		"<html> & 'apos'", "ünïcödé ☎ 😀", "bad \xff utf8 \xc3", "line\u2028sep\u2029", `Yealink "T46", v2`,
	} {
		if got, want := string(String(nil, s)), stdlib(s); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(String(nil, s)), stdlib(s); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	})
}
