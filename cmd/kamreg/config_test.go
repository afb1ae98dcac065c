package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidConfiguration runs `kamreg serve` with each bad setting and
// checks the one-line message; nothing is contacted.
func TestInvalidConfiguration(t *testing.T) {
	badKey := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(badKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	const db = "KAMREG_DATABASE_URL=postgres://u@127.0.0.1:1/db"
	tests := []struct {
		env    []string
		args   []string
		stderr string
		code   int
	}{
		{nil, nil, "kamreg serve: KAMREG_DATABASE_URL (or --database-url) is required\n", 2},
		{[]string{db, "KAMREG_SOURCE=ldap"}, nil, "kamreg serve: KAMREG_SOURCE \"ldap\": want db or rpc\n", 1},
		{[]string{db, "KAMREG_SOURCE=rpc"}, nil, "kamreg serve: KAMREG_SOURCE=rpc reads ul.dump from the Kamailio nodes: set KAMREG_KAMAILIO_RPC\n", 1},
		{[]string{db, "KAMREG_LOCATION_TABLE=location; drop table x"}, nil, "kamreg serve: invalid location table: \"location; drop table x\" is not a plain SQL identifier\n", 1},
		{[]string{db, "KAMREG_DB_TIMEZONE=Mars/Olympus"}, nil, "kamreg serve: KAMREG_DB_TIMEZONE \"Mars/Olympus\": unknown time zone Mars/Olympus\n", 1},
		{[]string{db, "KAMREG_KAMAILIO_RPC=ftp://x"}, nil, "kamreg serve: KAMREG_KAMAILIO_RPC: kamailio rpc endpoint \"ftp://x\": want http://host:port/RPC or unix:/path, optionally prefixed name=\n", 1},
		{[]string{db, "KAMREG_ADVERTISE=nonsense"}, nil, "kamreg serve: KAMREG_ADVERTISE: advertise \"nonsense\": want proto:ip:port=ip:port\n", 1},
		{[]string{db, "KAMREG_JWT_PUBLIC_KEY=" + badKey}, nil, "kamreg serve: KAMREG_JWT_PUBLIC_KEY: " + badKey + ": invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key\n", 1},
		{[]string{db, "KAMREG_RPC_TIMEOUT=0s"}, nil, "kamreg serve: KAMREG_RPC_TIMEOUT 0s: must be positive\n", 1},
		{[]string{db, "KAMREG_FLUSH_CONCURRENCY=0"}, nil, "kamreg serve: KAMREG_FLUSH_CONCURRENCY 0: must be at least 1\n", 1},
		{[]string{db, "KAMREG_STREAMS_PER_TOKEN=-1"}, nil, "kamreg serve: KAMREG_STREAMS_PER_TOKEN -1 / KAMREG_STREAMS_PER_ADDRESS 200: want 0 (no cap) or more\n", 1},
		{[]string{db}, []string{"--streams-per-address", "-5"}, "kamreg serve: KAMREG_STREAMS_PER_TOKEN 50 / KAMREG_STREAMS_PER_ADDRESS -5: want 0 (no cap) or more\n", 1},
		{[]string{db, "KAMREG_STREAMS_PER_TOKEN=many"}, nil, "kamreg serve: error setting flag \"streams-per-token\" from environment variable \"KAMREG_STREAMS_PER_TOKEN\": parse error\n", 2},
		{[]string{db, "KAMREG_SYNC_RATE=-1"}, nil, "kamreg serve: KAMREG_SYNC_RATE -1 / KAMREG_SYNC_BURST 10: want a rate of 0 or more and a burst of 1 or more\n", 1},
		{[]string{db}, []string{"--sync-burst", "0"}, "kamreg serve: KAMREG_SYNC_RATE 0.2 / KAMREG_SYNC_BURST 0: want a rate of 0 or more and a burst of 1 or more\n", 1},
		{[]string{db, "KAMREG_LOG_FORMAT=xml"}, nil, "kamreg serve: KAMREG_LOG_FORMAT \"xml\": want json or text\n", 1},
		{[]string{db, "KAMREG_RPC_TIMEOUT=soon"}, nil, "kamreg serve: error setting flag \"rpc-timeout\" from environment variable \"KAMREG_RPC_TIMEOUT\": parse error\n", 2},
		{[]string{db, "KAMREG_KAZOO_URL=kazoo:8000"}, nil, "kamreg serve: KAMREG_KAZOO_URL \"kazoo:8000\": want an http:// or https:// URL\n", 1},
		{[]string{db, "KAMREG_KAZOO_URL=http://kazoo:8000/v2/"}, nil, "kamreg serve: KAMREG_KAZOO_URL \"http://kazoo:8000/v2/\": give the crossbar root without /v2 (http://kazoo:8000): the request's /v2/… path is kept\n", 1},
		{[]string{db}, []string{"--kazoo-url", "http:///v2"}, "kamreg serve: KAMREG_KAZOO_URL \"http:///v2\": no host\n", 1},
		{[]string{db, "KAMREG_AUTH_FAIL_RATE=fast"}, nil, "kamreg serve: KAMREG_AUTH_FAIL_RATE \"fast\": want a number of 0 or more, then /s, /m or /h (5/s)\n", 1},
		{[]string{db, "KAMREG_AUTH_FAIL_RATE=5/d"}, nil, "kamreg serve: KAMREG_AUTH_FAIL_RATE \"5/d\": unit \"d\": want s, m or h\n", 1},
		{[]string{db, "KAMREG_AUTH_FAIL_BURST=0"}, nil, "kamreg serve: KAMREG_AUTH_FAIL_BURST 0: must be at least 1\n", 1},
		{[]string{db, "KAMREG_TRUSTED_PROXIES=10.0.0.0/8,proxy"}, nil, "kamreg serve: KAMREG_TRUSTED_PROXIES: \"proxy\" is neither a CIDR nor an address\n", 1},
		{[]string{db, "KAMREG_TLS_CERT=/x/cert.pem"}, nil, "kamreg serve: KAMREG_TLS_CERT and KAMREG_TLS_KEY go together: set both or neither\n", 1},
		{[]string{db, "KAMREG_LISTEN=127.0.0.1:9108"}, nil, "kamreg serve: KAMREG_METRICS_LISTEN 127.0.0.1:9108: must differ from KAMREG_LISTEN (the metrics stay off the API port)\n", 1},
		{[]string{db}, []string{"--listen"}, "kamreg serve: flag needs an argument: -listen\n", 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(tt.env, tt.args...), " "), func(t *testing.T) {
			for _, kv := range os.Environ() {
				if strings.HasPrefix(kv, "KAMREG_") {
					k, _, _ := strings.Cut(kv, "=")
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"serve"}, tt.args...), &out, &errOut)
			if code != tt.code || errOut.String() != tt.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut.String(), tt.code, tt.stderr)
			}
		})
	}
}
