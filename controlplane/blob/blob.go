// Package blob stores files on local disk under the hex SHA-256 of their
// content: DIR/sha256/ab/abcdef... for the hash abcdef... Blobs are images,
// model files and export artifacts; they never travel in the Raft log, which
// records only their hashes.
//
// It is not a cache with eviction, nor a peer fetcher or S3 client: those
// build on Put, Open and Delete. Writes are atomic: Put writes a temporary
// file, fsyncs it and renames it into place, so a reader never sees a
// partial blob, even after a crash.
//
// Concurrency: a Store is safe for concurrent use, including by several
// processes sharing DIR. Two Puts of the same content both succeed and leave
// one file. A blob deleted while open stays readable through the open file.
package blob

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Errors returned by Store methods, matched with errors.Is.
var (
	// ErrInvalidHash reports a hash that is not 64 lowercase hex characters.
	ErrInvalidHash = errors.New("invalid blob hash")
	// ErrNotFound reports that no blob has the hash.
	ErrNotFound = errors.New("blob not found")
	// ErrHashMismatch reports that content read by PutExpect does not have
	// the expected hash.
	ErrHashMismatch = errors.New("blob content does not match its hash")
)

// staleTempAge is the minimum age of the temporary files New removes. Each
// write of a Put updates its file's modification time, so only a Put cut off
// by a crash, or one stalled for a day, leaves such a file.
const staleTempAge = 24 * time.Hour

// Store is a blob directory. Create one with New.
type Store struct {
	dir   string
	fetch fetchState
}

// New opens the store in dir, creating dir/sha256 and dir/tmp as needed, and
// removes temporary files left behind by a crash.
func New(dir string) (*Store, error) {
	s := &Store{dir: dir}
	for _, d := range []string{s.blobRoot(), s.tempDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create blob directory: %w", err)
		}
	}
	if err := s.removeStaleTemps(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) blobRoot() string { return filepath.Join(s.dir, "sha256") }
func (s *Store) tempDir() string  { return filepath.Join(s.dir, "tmp") }

func (s *Store) removeStaleTemps() error {
	entries, err := os.ReadDir(s.tempDir())
	if err != nil {
		return fmt.Errorf("list blob temporary files: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleTempAge {
			continue // removed meanwhile, or possibly still being written
		}
		if err := os.Remove(filepath.Join(s.tempDir(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale blob temporary file: %w", err)
		}
	}
	return nil
}

// ValidateHash returns an ErrInvalidHash error unless hash is 64 lowercase
// hex characters. Only such hashes become paths, so no hash can name a file
// outside the store.
func ValidateHash(hash string) error {
	if len(hash) != sha256.Size*2 {
		return fmt.Errorf("%w: %q has %d characters, want 64 lowercase hex", ErrInvalidHash, hash, len(hash))
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: %q must be 64 lowercase hex characters", ErrInvalidHash, hash)
		}
	}
	return nil
}

// Path returns the file name of the blob with this hash, whether or not it
// exists, or "" when hash is invalid.
func (s *Store) Path(hash string) string {
	if ValidateHash(hash) != nil {
		return ""
	}
	return filepath.Join(s.blobRoot(), hash[:2], hash)
}

// Has reports whether the blob with this hash exists. It returns false for
// an invalid hash.
func (s *Store) Has(hash string) bool {
	p := s.Path(hash)
	if p == "" {
		return false
	}
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// Open opens the blob with this hash for reading. The caller closes it.
func (s *Store) Open(hash string) (*os.File, error) {
	if err := ValidateHash(hash); err != nil {
		return nil, err
	}
	f, err := os.Open(s.Path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", hash, err)
	}
	return f, nil
}

// Delete removes the blob with this hash.
func (s *Store) Delete(hash string) error {
	if err := ValidateHash(hash); err != nil {
		return err
	}
	err := os.Remove(s.Path(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, hash)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", hash, err)
	}
	return nil
}
