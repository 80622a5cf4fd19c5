package config

import (
	"strings"
	"testing"
	"time"
)

func TestRequirePositive(t *testing.T) {
	if err := RequirePositive(Duration{"a", time.Second}, Duration{"b", time.Millisecond}); err != nil {
		t.Errorf("positive durations: %v", err)
	}
	err := RequirePositive(Duration{"a", time.Second}, Duration{"probe timeout", 0}, Duration{"c", -1})
	if err == nil || !strings.Contains(err.Error(), "probe timeout") {
		t.Errorf("zero duration: error %v, want one naming probe timeout", err)
	}
}
