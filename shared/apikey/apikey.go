// Package apikey creates, parses and hashes API keys: "ul_" followed by 40
// lowercase hex characters. Other secret tokens, such as invite tokens,
// have the same form with another prefix. Servers store and compare only
// the SHA-256 of a key or token. The functions are pure and safe for
// concurrent use.
package apikey

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Prefix starts every API key.
const Prefix = "ul_"

// Len is the length of a key: the prefix and 40 hex characters.
const Len = len(Prefix) + 40

// New returns a fresh key from crypto/rand.
func New() string { return NewToken(Prefix) }

// NewToken returns prefix followed by 40 hex characters from crypto/rand:
// the form of API keys, and of other secrets that servers store only as a
// Hash, such as invite tokens.
func NewToken(prefix string) string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}

// Hash returns the stored form of a key: lowercase hex SHA-256.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ValidFormat reports whether key is "ul_" followed by 40 hex characters.
func ValidFormat(key []byte) bool { return ValidToken(key, Prefix) }

// ValidToken reports whether token is prefix followed by 40 hex
// characters, the form NewToken returns.
func ValidToken(token []byte, prefix string) bool {
	if len(token) != len(prefix)+40 || !bytes.HasPrefix(token, []byte(prefix)) {
		return false
	}
	for _, c := range token[len(prefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// FromHeader parses an Authorization header value and returns the hash of
// its key, or the 401 error to send. The scheme name is case-insensitive
// and may be followed by spaces or tabs, as RFC 7235 allows.
func FromHeader(header []byte) (string, *apierr.Error) {
	if len(header) == 0 {
		return "", apierr.Unauthorized("missing API key: send the header Authorization: Bearer ul_...")
	}
	const scheme = "bearer"
	if len(header) <= len(scheme) || !bytes.EqualFold(header[:len(scheme)], []byte(scheme)) ||
		(header[len(scheme)] != ' ' && header[len(scheme)] != '\t') {
		return "", apierr.Unauthorized("invalid Authorization header: use the form Bearer ul_ followed by 40 hex characters")
	}
	// Keys are issued in lower case; a key retyped in upper case is the
	// same key.
	token := bytes.ToLower(bytes.TrimSpace(header[len(scheme):]))
	if !ValidFormat(token) {
		return "", apierr.Unauthorized("invalid API key format: keys are ul_ followed by 40 hex characters")
	}
	return Hash(string(token)), nil
}

// ErrUnknown is the response to a well-formed key that no record matches.
var ErrUnknown = apierr.Unauthorized("invalid or revoked API key: create a key with POST /api/api-keys, or use the admin key in the server's data directory")
