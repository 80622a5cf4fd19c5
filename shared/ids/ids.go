// Package ids creates and recognizes resource IDs: 24 lowercase hexadecimal
// characters, the form every Ultralytics Platform resource ID takes. A path
// segment in an owner-or-ID position is an ID exactly when IsID reports true.
// All functions are safe for concurrent use.
package ids

import (
	"crypto/rand"
	"encoding/hex"
)

// Len is the length of an ID in characters.
const Len = 24

// New returns a fresh random ID from crypto/rand.
func New() string {
	var b [Len / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// IsID reports whether s has the form of an ID. Upper-case hex is accepted,
// as the contract's pattern ^[0-9a-fA-F]{24}$ does.
func IsID(s string) bool {
	if len(s) != Len {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
