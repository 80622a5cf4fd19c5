// Package testshared locates the read-only fixtures directory that sits
// beside the repository (../shared: models, images, fault cases, contract).
//
// Tests call Dir or Path. When the directory is absent they skip, except
// when the CI environment variable is set, where a missing fixture is a
// failure: CI always has ../shared, so a skip there would hide a broken test.
package testshared

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	rootOnce sync.Once
	rootDir  string
)

// moduleRoot walks up from the working directory to the folder that holds
// go.mod. Go runs each package's tests in that package's folder.
func moduleRoot() string {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	return rootDir
}

// Dir returns the absolute path of ../shared, skipping or failing the test
// when it is missing.
func Dir(tb testing.TB) string {
	tb.Helper()
	root := moduleRoot()
	if root == "" {
		tb.Fatal("module root with go.mod not found above the working directory")
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("fixtures directory %s is missing, and CI is set: %v", dir, err)
		}
		tb.Skipf("fixtures directory %s is missing: %v", dir, err)
	}
	return dir
}

// Path returns the absolute path of a file under ../shared, such as
// Path(t, "images", "bus.jpg"), failing the test when that file is missing.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("fixture %s: %v", p, err)
	}
	return p
}

// Read returns the contents of a file under ../shared.
func Read(tb testing.TB, elem ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, elem...))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}
