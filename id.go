package kamreg

import "strings"

// ValidID tells whether id is a Kazoo id: 32 lowercase hex characters.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SplitToken returns the id and the secret of a kamreg API token,
// "<id>.<secret>": a valid id, a dot, 64 characters of secret.
func SplitToken(token string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(token, ".")
	if !ok || !ValidID(id) || len(secret) != 64 {
		return "", "", false
	}
	return id, secret, true
}
