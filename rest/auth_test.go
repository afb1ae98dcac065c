package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCredentials(t *testing.T) {
	s := newTestServer(t, fakeRegistrations{}, nil)
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
	}{
		{"X-Auth-Token", base, []string{"X-Auth-Token", goodTok}, 200},
		{"Bearer", base, []string{"Authorization", "Bearer " + goodTok}, 200},
		{"bearer, any case, extra spaces", base, []string{"Authorization", "  bEaReR   " + goodTok + " "}, 200},
		{"query parameter", base + "?auth_token=" + goodTok, nil, 200},
		{"X-Auth-Token wins over Bearer", base, []string{"X-Auth-Token", goodTok, "Authorization", "Bearer " + otherTok}, 200},
		{"bad Bearer token", base, []string{"Authorization", "Bearer nope"}, 401},
		{"Basic is not a token", base, []string{"Authorization", "Basic " + goodTok}, 401},
		{"Bearer without a token", base, []string{"Authorization", "Bearer"}, 401},
		{"Bearer of another account", base, []string{"Authorization", "Bearer " + otherTok}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(s, "GET", tt.path, "", tt.headers...)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
		})
	}
}

func TestTrailingSlashIsTheSameRoute(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		route        string
	}{
		{"GET", base + "/", 200, "account_registrations"},
		{"DELETE", base + "/", 200, "account_registrations"},
		{"GET", base + "/count/", 200, "account_registrations_count"},
		{"DELETE", base + "/count/", 405, "account_registrations_count"},
		{"DELETE", base + "/alice/", 200, "account_registration_user"},
		{"GET", "/v2/registrations/", 200, "registrations"},
		{"GET", "/v2/registrations/count/", 200, "registrations_count"},
		{"GET", "/healthz/", 200, "healthz"},
		{"GET", base + "//", 404, "unmatched"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var log bytes.Buffer
			s := newTestServer(t, fakeRegistrations{}, &log)
			token := goodTok
			if strings.HasPrefix(tt.path, "/v2/registrations") {
				token = superTok
			}
			w := do(s, tt.method, tt.path, token)
			var entry struct{ Route string }
			_ = json.Unmarshal(log.Bytes(), &entry)
			got := []any{w.Code, entry.Route, w.Header().Get("Location")}
			if diff := cmp.Diff([]any{tt.status, tt.route, ""}, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, w.Body)
			}
		})
	}
}

// TestTokensAreNeverLogged sends a token in every way kamreg takes one, on
// answers of every kind, and looks for it, its parts and its encodings in
// the log.
func TestTokensAreNeverLogged(t *testing.T) {
	const id, secret = "abcdef0123456789abcdef0123456789", "5ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre7abcd"
	token := id + "." + secret
	var log bytes.Buffer
	s := newTestServer(t, fakeRegistrations{}, &log)
	for _, h := range [][]string{{"X-Auth-Token", token}, {"Authorization", "Bearer " + token}, nil} {
		for _, path := range []string{base, base + "/count/", "/v2/registrations", "/v2/nothing", "/v2/accounts/xyz/registrations"} {
			if h == nil {
				path += "?auth_token=" + url.QueryEscape(token)
			}
			do(s, "GET", path, "", h...)
			do(s, "DELETE", path, "", h...)
			do(s, "OPTIONS", path, "", h...)
		}
	}
	if log.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	for _, form := range []string{id, secret, url.QueryEscape(token), base64.StdEncoding.EncodeToString([]byte(token)),
		base64.RawURLEncoding.EncodeToString([]byte(token))} {
		if strings.Contains(log.String(), form) {
			t.Errorf("the log holds %q:\n%s", form, log.String())
		}
	}
}
