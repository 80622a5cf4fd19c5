package inference

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not really a library"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindLibraryEnvMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	t.Setenv(LibraryEnv, missing)

	_, err := FindLibrary()
	if !errors.Is(err, ErrLibraryNotFound) {
		t.Fatalf("FindLibrary error = %v, want ErrLibraryNotFound", err)
	}
	for _, want := range []string{missing, LibraryEnv, "make ort"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFindLibraryEnvExistingFile(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "custom.so")
	writeFile(t, lib)
	t.Setenv(LibraryEnv, lib)

	got, err := FindLibrary()
	if err != nil {
		t.Fatal(err)
	}
	if got != lib {
		t.Errorf("FindLibrary() = %q, want %q", got, lib)
	}
}

func TestLibrarySearchOrder(t *testing.T) {
	root := t.TempDir()
	exeCache := filepath.Join(root, "install", cachedLibrary)
	repoCache := filepath.Join(root, "repo", cachedLibrary)
	ldPath := filepath.Join(root, "ld", "libonnxruntime.so")
	system := filepath.Join(root, "usr", "lib", "libonnxruntime.so.1")
	s := librarySearch{
		executable:   filepath.Join(root, "install", "bin", "yoloplane"),
		workDir:      filepath.Join(root, "repo", "dataplane", "inference"),
		ldLibPath:    filepath.Join(root, "ld"),
		ldCache:      filepath.Join(root, "no-ld.so.cache"),
		defaultPaths: []string{filepath.Join(root, "usr", "lib")},
	}

	// Each step adds a better candidate; find must always take the best.
	steps := []struct {
		create string
		want   string
	}{
		{system, system},
		{ldPath, ldPath},
		{repoCache, repoCache},
		{exeCache, exeCache},
	}
	for _, step := range steps {
		writeFile(t, step.create)
		got, err := s.find()
		if err != nil {
			t.Fatalf("after creating %s: %v", step.create, err)
		}
		if got != step.want {
			t.Errorf("after creating %s: found %s, want %s", step.create, got, step.want)
		}
	}
}

func TestLibrarySearchNotFoundListsPlaces(t *testing.T) {
	root := t.TempDir()
	s := librarySearch{
		executable:   filepath.Join(root, "bin", "yoloplane"),
		workDir:      filepath.Join(root, "work"),
		ldLibPath:    filepath.Join(root, "ld"),
		ldCache:      filepath.Join(root, "no-ld.so.cache"),
		defaultPaths: []string{filepath.Join(root, "lib")},
	}
	_, err := s.find()
	if !errors.Is(err, ErrLibraryNotFound) {
		t.Fatalf("error = %v, want ErrLibraryNotFound", err)
	}
	for _, want := range []string{
		filepath.Join(root, cachedLibrary),
		filepath.Join(root, "work", cachedLibrary),
		filepath.Join(root, "ld", "libonnxruntime.so.1"),
		filepath.Join(root, "lib", "libonnxruntime.so"),
		"make ort",
		LibraryEnv,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// fakeLDCache builds a glibc-ld.so.cache1.1 file mapping names to paths.
func fakeLDCache(entries [][2]string) []byte {
	const headerLen, entryLen = 48, 24
	strs := headerLen + entryLen*len(entries)
	header := make([]byte, headerLen)
	copy(header, ldCacheMagic)
	binary.LittleEndian.PutUint32(header[20:], uint32(len(entries)))

	table := make([]byte, entryLen*len(entries))
	var strings []byte
	for i, e := range entries {
		binary.LittleEndian.PutUint32(table[i*entryLen:], 0x0303)
		binary.LittleEndian.PutUint32(table[i*entryLen+4:], uint32(strs+len(strings)))
		strings = append(append(strings, e[0]...), 0)
		binary.LittleEndian.PutUint32(table[i*entryLen+8:], uint32(strs+len(strings)))
		strings = append(append(strings, e[1]...), 0)
	}
	binary.LittleEndian.PutUint32(header[24:], uint32(len(strings)))
	return append(append(header, table...), strings...)
}

func TestReadLDCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ld.so.cache")
	cache := fakeLDCache([][2]string{
		{"libc.so.6", "/lib/libc.so.6"},
		{"libonnxruntime.so.1", "/opt/ort/libonnxruntime.so.1"},
		{"libonnxruntime.so", "/opt/ort/libonnxruntime.so"},
	})
	if err := os.WriteFile(path, cache, 0o644); err != nil {
		t.Fatal(err)
	}
	got := readLDCache(path, libraryNames)
	want := []string{"/opt/ort/libonnxruntime.so.1", "/opt/ort/libonnxruntime.so"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readLDCache (-want +got):\n%s", diff)
	}
}

func TestReadLDCacheMalformed(t *testing.T) {
	dir := t.TempDir()
	valid := fakeLDCache([][2]string{{"libonnxruntime.so.1", "/x/libonnxruntime.so.1"}})
	cases := map[string][]byte{
		"empty":       nil,
		"other magic": []byte("ld.so-1.7.0 and nothing else"),
		"truncated":   valid[:60],
		"huge count": func() []byte {
			b := append([]byte(nil), valid...)
			binary.LittleEndian.PutUint32(b[20:], 1<<31)
			return b
		}(),
	}
	for name, data := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Only the absence of a panic and of garbage paths matters here.
		for _, p := range readLDCache(path, libraryNames) {
			if p != "/x/libonnxruntime.so.1" {
				t.Errorf("%s: unexpected path %q", name, p)
			}
		}
	}
}

func FuzzReadLDCache(f *testing.F) {
	f.Add(fakeLDCache([][2]string{{"libonnxruntime.so.1", "/x/libonnxruntime.so.1"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "ld.so.cache")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		readLDCache(path, libraryNames)
	})
}
