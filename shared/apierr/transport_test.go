package apierr

import (
	"strings"
	"testing"
)

func TestRedactSecrets(t *testing.T) {
	key := "ul_" + strings.Repeat("ab", 20)
	token := "inv_" + strings.Repeat("cd", 20)
	for _, c := range []struct{ in, want string }{
		{"GET /x?key=" + key, "GET /x?key=ul_[redacted]"},
		{"GET /api/invites/info?token=" + token + " HTTP/1.1", "GET /api/invites/info?token=inv_[redacted] HTTP/1.1"},
		{"Authorization: Bearer " + key, "Authorization: Bearer [redacted]"},
		{"X-Yoloplane-Cluster-Secret: s3cret", "X-Yoloplane-Cluster-Secret: [redacted]"},
		{"nothing secret", "nothing secret"},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
