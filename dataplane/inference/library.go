package inference

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LibraryEnv names the environment variable that points at the ONNX Runtime
// shared library. When it is set, FindLibrary uses that file or fails.
const LibraryEnv = "YOLOPLANE_ORT_LIB"

// cachedLibrary is the library path that `make ort` writes, relative to the
// repository root. The version is the one the Makefile pins and hashes.
const cachedLibrary = ".cache/onnxruntime-1.30.0/libonnxruntime.so.1"

// libraryNames are the file names tried in the system's library paths,
// versioned first because distributions install the unversioned name only
// with development packages.
var libraryNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

const libraryFix = "run `make ort` in the repository, or set " + LibraryEnv +
	" to the path of libonnxruntime.so"

// librarySearch lists the places FindLibrary looks. Tests replace the
// fields to search temporary directories only.
type librarySearch struct {
	env          string   // value of LibraryEnv, empty when unset
	executable   string   // path of the running executable, empty if unknown
	workDir      string   // working directory, empty if unknown
	ldLibPath    string   // value of LD_LIBRARY_PATH
	ldCache      string   // path of ld.so.cache
	defaultPaths []string // directories the dynamic loader always searches
}

func systemLibrarySearch() librarySearch {
	s := librarySearch{
		env:       os.Getenv(LibraryEnv),
		ldLibPath: os.Getenv("LD_LIBRARY_PATH"),
		ldCache:   "/etc/ld.so.cache",
		defaultPaths: []string{
			"/lib", "/usr/lib", "/lib64", "/usr/lib64",
			"/usr/local/lib", "/usr/local/lib64",
		},
	}
	if exe, err := os.Executable(); err == nil {
		s.executable = exe
	}
	if wd, err := os.Getwd(); err == nil {
		s.workDir = wd
	}
	return s
}

// FindLibrary returns the path of the ONNX Runtime shared library to load.
// It tries, in order: $YOLOPLANE_ORT_LIB, which must exist when set; the
// `make ort` cache beside the executable (<exe dir>/../.cache/...) and in
// the working directory or any directory above it (so `go test` in a
// package folder finds the repository's cache); then LD_LIBRARY_PATH,
// /etc/ld.so.cache and the loader's default directories, in the order the
// dynamic loader searches them. The error lists every place tried and
// explains how to install the library.
func FindLibrary() (string, error) {
	return systemLibrarySearch().find()
}

func (s librarySearch) find() (string, error) {
	if s.env != "" {
		if _, err := os.Stat(s.env); err != nil {
			return "", fmt.Errorf("%w: %s=%q: %w; %s", ErrLibraryNotFound,
				LibraryEnv, s.env, err, libraryFix)
		}
		return s.env, nil
	}

	var tried []string
	for _, p := range s.candidates() {
		if isFile(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("%w: %s is unset and none of these exist: %s; %s",
		ErrLibraryNotFound, LibraryEnv, strings.Join(tried, ", "), libraryFix)
}

// candidates returns every path to try after the environment variable, in
// order, without duplicates.
func (s librarySearch) candidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}

	if s.executable != "" {
		add(filepath.Join(filepath.Dir(filepath.Dir(s.executable)), cachedLibrary))
	}
	for dir := s.workDir; dir != ""; dir = parentDir(dir) {
		add(filepath.Join(dir, cachedLibrary))
	}
	for _, dir := range filepath.SplitList(s.ldLibPath) {
		if dir == "" {
			continue
		}
		for _, name := range libraryNames {
			add(filepath.Join(dir, name))
		}
	}
	for _, p := range readLDCache(s.ldCache, libraryNames) {
		add(p)
	}
	for _, dir := range s.defaultPaths {
		for _, name := range libraryNames {
			add(filepath.Join(dir, name))
		}
	}
	return out
}

// parentDir returns the parent of dir, or "" at the file system root.
func parentDir(dir string) string {
	parent := filepath.Dir(dir)
	if parent == dir {
		return ""
	}
	return parent
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// ldCacheMagic starts the glibc cache format used since glibc 2.32 alone
// and, before that, after the legacy "ld.so-1.7.0" table in the same file.
const ldCacheMagic = "glibc-ld.so.cache1.1"

// readLDCache returns the paths that the glibc loader cache maps the given
// library names to, in the cache's order. A missing or unreadable cache,
// or one in another format, yields nil: the loader's default directories
// are still searched after it.
func readLDCache(path string, names []string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	start := bytes.Index(data, []byte(ldCacheMagic))
	if start < 0 {
		return nil
	}
	// String offsets in the entries count from the start of this header.
	cache := data[start:]
	const headerLen, entryLen = 48, 24
	if len(cache) < headerLen {
		return nil
	}
	count := int(binary.LittleEndian.Uint32(cache[20:24]))
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}

	var out []string
	for i := range count {
		off := headerLen + i*entryLen
		if off+entryLen > len(cache) {
			break
		}
		key := cString(cache, binary.LittleEndian.Uint32(cache[off+4:]))
		if !want[key] {
			continue
		}
		if value := cString(cache, binary.LittleEndian.Uint32(cache[off+8:])); value != "" {
			out = append(out, value)
		}
	}
	return out
}

// cString returns the NUL-terminated string at off in b, or "" when off is
// out of range.
func cString(b []byte, off uint32) string {
	if uint64(off) >= uint64(len(b)) {
		return ""
	}
	s := b[off:]
	if end := bytes.IndexByte(s, 0); end >= 0 {
		s = s[:end]
	}
	return string(s)
}
