package api

import "time"

// formatTime writes t as RFC 3339 in UTC with a Z suffix and millisecond
// precision, the form every timestamp in the API takes.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
