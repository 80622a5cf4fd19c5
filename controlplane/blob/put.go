package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Put stores the content of r and returns its hex SHA-256 and size. Storing
// content that already exists succeeds and leaves the existing file. Put
// reads r to the end; a caller that bounds the size wraps r in an
// io.LimitReader.
func (s *Store) Put(r io.Reader) (hash string, size int64, err error) {
	return s.put(r, "")
}

// PutExpect stores the content of r like Put, but only when its hash is
// want, for content fetched from a peer by hash. On a mismatch nothing is
// stored and the error wraps ErrHashMismatch.
func (s *Store) PutExpect(r io.Reader, want string) (size int64, err error) {
	if err := ValidateHash(want); err != nil {
		return 0, err
	}
	_, size, err = s.put(r, want)
	return size, err
}

func (s *Store) put(r io.Reader, want string) (hash string, size int64, err error) {
	tmp, err := os.CreateTemp(s.tempDir(), "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("create blob temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("write blob: %w", err)
	}
	hash = hex.EncodeToString(h.Sum(nil))
	if want != "" && hash != want {
		return "", 0, fmt.Errorf("%w: got %s, want %s", ErrHashMismatch, hash, want)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync blob %s: %w", hash, err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("close blob %s: %w", hash, err)
	}
	if err := s.commit(tmp.Name(), hash); err != nil {
		return "", 0, err
	}
	return hash, size, nil
}

// commit renames the synced temporary file into place and syncs the
// directory so that the rename survives a crash.
func (s *Store) commit(tmpName, hash string) error {
	final := s.Path(hash)
	shard := filepath.Dir(final)
	if err := os.MkdirAll(shard, 0o700); err != nil {
		return fmt.Errorf("create blob directory: %w", err)
	}
	if s.Has(hash) {
		// The same content is already stored.
		if err := os.Remove(tmpName); err != nil {
			return fmt.Errorf("remove duplicate of blob %s: %w", hash, err)
		}
		return nil
	}
	if err := os.Rename(tmpName, final); err != nil {
		return fmt.Errorf("store blob %s: %w", hash, err)
	}
	return syncDir(shard)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open blob directory for sync: %w", err)
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("sync blob directory: %w", err)
	}
	return nil
}
