package rest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/kamreg/kamreg"
)

// A start_key is opaque to clients: the page key's three parts joined by
// NUL, then the first 4 bytes of their SHA-256, in unpadded base64url. The
// checksum makes a mangled key a 400 instead of a silent restart.
const keyChecksum = 4

// maxStartKey bounds the length of a start_key a client may send.
const maxStartKey = 2048

var errBadStartKey = errors.New("malformed start_key")

// EncodeStartKey returns the start_key of a page key.
func EncodeStartKey(k kamreg.Key) string {
	payload := []byte(k.Username + "\x00" + k.Contact + "\x00" + k.Ruid)
	sum := sha256.Sum256(payload)
	return base64.RawURLEncoding.EncodeToString(append(payload, sum[:keyChecksum]...))
}

// decodeStartKey reads a start_key made by EncodeStartKey.
func decodeStartKey(s string) (kamreg.Key, error) {
	if s == "" || len(s) > maxStartKey {
		return kamreg.Key{}, errBadStartKey
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < keyChecksum {
		return kamreg.Key{}, errBadStartKey
	}
	payload, sum := raw[:len(raw)-keyChecksum], raw[len(raw)-keyChecksum:]
	want := sha256.Sum256(payload)
	if !bytes.Equal(sum, want[:keyChecksum]) {
		return kamreg.Key{}, errBadStartKey
	}
	parts := strings.Split(string(payload), "\x00")
	if len(parts) != 3 {
		return kamreg.Key{}, errBadStartKey
	}
	return kamreg.Key{Username: parts[0], Contact: parts[1], Ruid: parts[2]}, nil
}
