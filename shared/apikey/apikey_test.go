package apikey

import (
	"net/http"
	"strings"
	"testing"
)

func TestNewHasValidFormat(t *testing.T) {
	k := New()
	if !ValidFormat([]byte(k)) {
		t.Errorf("New() = %q, not a valid key", k)
	}
	if New() == k {
		t.Error("two calls of New returned the same key")
	}
}

func TestFromHeader(t *testing.T) {
	key := "ul_" + strings.Repeat("ab", 20)
	want := Hash(key)
	for _, h := range []string{"Bearer " + key, "bearer " + key, "BEARER\t" + key, "Bearer   " + key + " ", "Bearer ul_" + strings.ToUpper(key[3:]), "Bearer " + strings.ToUpper(key)} {
		got, err := FromHeader([]byte(h))
		if err != nil {
			t.Errorf("FromHeader(%q): %v", h, err)
			continue
		}
		if got != want {
			t.Errorf("FromHeader(%q) = %s, want %s", h, got, want)
		}
	}
	for _, h := range []string{"", "Basic abc", "Bearer", "Bearerul_x", "Bearer ul_123", "Bearer " + key + "00", "Token " + key} {
		_, err := FromHeader([]byte(h))
		if err == nil || err.Status != http.StatusUnauthorized {
			t.Errorf("FromHeader(%q): error %v, want 401", h, err)
		}
	}
}

func TestNewTokenHasItsPrefix(t *testing.T) {
	token := NewToken("inv_")
	if !ValidToken([]byte(token), "inv_") {
		t.Errorf("NewToken(inv_) = %q, not a valid inv_ token", token)
	}
	if ValidFormat([]byte(token)) {
		t.Errorf("invite token %q passes as an API key", token)
	}
	if ValidToken([]byte(token[:len(token)-1]+"g"), "inv_") {
		t.Errorf("token with a non-hex character passes")
	}
}
