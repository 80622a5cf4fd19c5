package state

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
)

func encodeCursorString(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ada", true},
		{"ada-lovelace", true},
		{"a1-b2-c3", true},
		{"0123456789abcdef0123456", true}, // 23 hex characters is a name
		{"", false},
		{"Ada", false},
		{"ada_l", false},
		{"-ada", false},
		{"ada-", false},
		{"ada--l", false},
		{"0123456789abcdef01234567", false},
		{"completed", false},
		{"ingest", false},
		{"bulk", false},
		{"new", false},
		{"settings", false},
		{"api", false},
		{"admin", false},
		{"trash", false},
		{strings.Repeat("a", 101), false},
	}
	for _, tt := range tests {
		err := ValidateUsername(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateUsername(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateUsername(%q) = %v, want ErrInvalid", tt.name, err)
		}
	}
}

func TestReservedNamesSorted(t *testing.T) {
	// IsReservedName uses binary search, which needs sorted input.
	if !slices.IsSorted(reservedNames) {
		t.Errorf("reservedNames is not sorted")
	}
	for _, n := range reservedNames {
		if !IsReservedName(n) {
			t.Errorf("IsReservedName(%q) = false", n)
		}
	}
}
