package state

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/yoloplane/yoloplane/shared/ids"
)

// Bounds on user-supplied text, in bytes.
const (
	maxNameLen        = 100 // username, slug and display name
	maxDescriptionLen = 2000
	maxEmailLen       = 254 // the maximum address length in an SMTP path (RFC 5321)
	maxMetadataKeys   = 64
	maxMetadataValue  = 64 << 10 // class-name lists of large models fit
)

// slugPattern is the shape of usernames, workspace slugs, project slugs and
// model slugs.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// reservedNames are fixed words of the REST routes. A username or slug equal
// to one would make a route such as /api/datasets/{owner}/{dataset}
// ambiguous with /api/datasets/{datasetId}/ingest, so they are rejected.
var reservedNames = []string{
	"admin", "api", "bulk", "completed", "create", "delete", "deployments",
	"edit", "export", "health", "import", "ingest", "login", "logout",
	"me", "metrics", "models", "new", "null", "openapi", "predict",
	"projects", "settings", "signup", "teams", "trash", "undefined",
	"upload", "usage", "users", "workspaces",
}

// tasks are the model tasks Ultralytics YOLO models report.
var tasks = []string{"detect", "segment", "classify", "pose", "obb"}

// IsReservedName reports whether name is a fixed route word that cannot be
// a username or slug.
func IsReservedName(name string) bool {
	_, found := slices.BinarySearch(reservedNames, name)
	return found
}

// ValidateUsername returns an ErrInvalid error when name cannot be a
// username: it must match ^[a-z0-9]+(?:-[a-z0-9]+)*$, be at most 100
// characters, not look like a resource ID and not be a reserved route word.
func ValidateUsername(name string) error {
	if err := ValidateSlug("username", name); err != nil {
		return err
	}
	if ids.IsID(name) {
		return fmt.Errorf("%w: username %q has the form of a resource ID (24 hex characters)", ErrInvalid, name)
	}
	if IsReservedName(name) {
		return fmt.Errorf("%w: username %q is a reserved word", ErrInvalid, name)
	}
	return nil
}

// ValidateSlug returns an ErrInvalid error naming field when slug does not
// match ^[a-z0-9]+(?:-[a-z0-9]+)*$ or is longer than 100 characters.
func ValidateSlug(field, slug string) error {
	if slug == "" {
		return fmt.Errorf("%w: %s is missing", ErrInvalid, field)
	}
	if len(slug) > maxNameLen {
		return fmt.Errorf("%w: %s %q is %d characters, more than the maximum %d", ErrInvalid, field, slug, len(slug), maxNameLen)
	}
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("%w: %s %q must be lowercase letters and digits separated by single hyphens", ErrInvalid, field, slug)
	}
	return nil
}

// validateID checks that id is 24 lowercase hex characters. Upper case is
// rejected so that one resource cannot be stored under two spellings.
func validateID(field, id string) error {
	if !ids.IsID(id) || strings.ToLower(id) != id {
		return fmt.Errorf("%w: %s %q must be 24 lowercase hex characters", ErrInvalid, field, id)
	}
	return nil
}

func validateHex64(field, s string) error {
	if len(s) != 64 {
		return fmt.Errorf("%w: %s %q must be 64 lowercase hex characters", ErrInvalid, field, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: %s %q must be 64 lowercase hex characters", ErrInvalid, field, s)
		}
	}
	return nil
}

func validateTime(field string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%w: %s is missing", ErrInvalid, field)
	}
	return nil
}

func validateText(field, s string, maxLen int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: %s is missing", ErrInvalid, field)
	}
	if len(s) > maxLen {
		return fmt.Errorf("%w: %s is %d bytes, more than the maximum %d", ErrInvalid, field, len(s), maxLen)
	}
	return nil
}

// ValidateEmail returns an ErrInvalid error when email is set but is not
// of the form name@domain or is longer than 254 bytes.
func ValidateEmail(email string) error { return validateEmail(email) }

func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	if len(email) > maxEmailLen {
		return fmt.Errorf("%w: email is %d bytes, more than the maximum %d", ErrInvalid, len(email), maxEmailLen)
	}
	at := strings.IndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n") {
		return fmt.Errorf("%w: email %q must have the form name@domain", ErrInvalid, email)
	}
	return nil
}

func validatePlan(p Plan) error {
	switch p {
	case PlanFree, PlanPro, PlanEnterprise:
		return nil
	}
	return fmt.Errorf("%w: plan %q must be one of free, pro, enterprise", ErrInvalid, p)
}

func validateRole(r Role) error {
	switch r {
	case RoleViewer, RoleEditor, RoleAdmin:
		return nil
	}
	return fmt.Errorf("%w: role %q must be one of viewer, editor, admin", ErrInvalid, r)
}

func validateTask(task string) error {
	if task == "" || slices.Contains(tasks, task) {
		return nil
	}
	return fmt.Errorf("%w: task %q must be one of %s", ErrInvalid, task, strings.Join(tasks, ", "))
}

func validateFormat(format string) error {
	switch format {
	case FormatONNX, FormatPyTorch:
		return nil
	}
	return fmt.Errorf("%w: format %q must be onnx or pt", ErrInvalid, format)
}

func validateModelStatus(status string) error {
	switch status {
	case ModelStatusReady, ModelStatusNeedsExport, ModelStatusExporting, ModelStatusFailed:
		return nil
	}
	return fmt.Errorf("%w: model status %q must be one of ready, needs_export, exporting, failed", ErrInvalid, status)
}

func validateMetadata(md map[string]string) error {
	if len(md) > maxMetadataKeys {
		return fmt.Errorf("%w: metadata has %d keys, more than the maximum %d", ErrInvalid, len(md), maxMetadataKeys)
	}
	// Sorted keys make the reported key the same on every node.
	for _, k := range slices.Sorted(maps.Keys(md)) {
		v := md[k]
		if k == "" || len(k) > maxNameLen {
			return fmt.Errorf("%w: metadata key %q must be 1 to %d bytes", ErrInvalid, k, maxNameLen)
		}
		if len(v) > maxMetadataValue {
			return fmt.Errorf("%w: metadata %q is %d bytes, more than the maximum %d", ErrInvalid, k, len(v), maxMetadataValue)
		}
	}
	return nil
}
