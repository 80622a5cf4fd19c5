// Package config holds checks that the Validate methods of several
// components' Config structs share. It has no state.
package config

import (
	"fmt"
	"time"
)

// Duration is a configured duration and the name a message gives it.
type Duration struct {
	Name  string
	Value time.Duration
}

// RequirePositive returns an error naming the first duration that is zero
// or negative.
func RequirePositive(durations ...Duration) error {
	for _, d := range durations {
		if d.Value <= 0 {
			return fmt.Errorf("invalid %s %v: must be positive", d.Name, d.Value)
		}
	}
	return nil
}
