package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, dir
}

func TestPutOpenDelete(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"small", []byte("hello")},
		{"large", bytes.Repeat([]byte("0123456789"), 100_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newStore(t)
			hash, size, err := s.Put(bytes.NewReader(tt.content))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if want := sum(tt.content); hash != want {
				t.Errorf("Put hash = %s, want %s", hash, want)
			}
			if size != int64(len(tt.content)) {
				t.Errorf("Put size = %d, want %d", size, len(tt.content))
			}
			if want := filepath.Join(dir, "sha256", hash[:2], hash); s.Path(hash) != want {
				t.Errorf("Path = %s, want %s", s.Path(hash), want)
			}
			if !s.Has(hash) {
				t.Errorf("Has = false after Put")
			}

			f, err := s.Open(hash)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				t.Fatalf("read blob: %v", err)
			}
			if !bytes.Equal(got, tt.content) {
				t.Errorf("blob content differs from what was put (%d bytes, want %d)", len(got), len(tt.content))
			}

			if err := s.Delete(hash); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if s.Has(hash) {
				t.Errorf("Has = true after Delete")
			}
			if _, err := s.Open(hash); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open after Delete: err = %v, want ErrNotFound", err)
			}
			if err := s.Delete(hash); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Delete: err = %v, want ErrNotFound", err)
			}
			if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
				t.Errorf("temporary files left behind: %v", tmp)
			}
		})
	}
}

func TestInvalidHashes(t *testing.T) {
	s, dir := newStore(t)
	outside := filepath.Join(dir, "secret")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := sum([]byte("x"))
	tests := []string{
		"",
		"abc",
		strings.ToUpper(valid),
		valid[:63],
		valid + "0",
		"../../../../../../../../etc/passwd" + strings.Repeat("0", 30),
		"../secret",
		valid[:62] + "/.",
		strings.Repeat("g", 64),
	}
	for _, h := range tests {
		if err := ValidateHash(h); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("ValidateHash(%q) = %v, want ErrInvalidHash", h, err)
		}
		if p := s.Path(h); p != "" {
			t.Errorf("Path(%q) = %q, want empty", h, p)
		}
		if s.Has(h) {
			t.Errorf("Has(%q) = true", h)
		}
		if _, err := s.Open(h); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("Open(%q): err = %v, want ErrInvalidHash", h, err)
		}
		if err := s.Delete(h); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidHash", h, err)
		}
		if _, err := s.PutExpect(strings.NewReader("x"), h); !errors.Is(err, ErrInvalidHash) {
			t.Errorf("PutExpect(%q): err = %v, want ErrInvalidHash", h, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("file outside the store is gone: %v", err)
	}
}

func TestPutExpect(t *testing.T) {
	s, _ := newStore(t)
	content := []byte("model bytes")
	if _, err := s.PutExpect(bytes.NewReader(content), sum([]byte("other"))); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("PutExpect with a wrong hash: err = %v, want ErrHashMismatch", err)
	}
	if s.Has(sum(content)) {
		t.Errorf("content stored despite a hash mismatch")
	}
	size, err := s.PutExpect(bytes.NewReader(content), sum(content))
	if err != nil || size != int64(len(content)) {
		t.Errorf("PutExpect = %d, %v, want %d, nil", size, err, len(content))
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection reset")
	}
	r.n--
	return copy(p, "partial"), nil
}

func TestPutReadErrorStoresNothing(t *testing.T) {
	s, dir := newStore(t)
	if _, _, err := s.Put(&failingReader{n: 3}); err == nil {
		t.Fatalf("Put succeeded on a failing reader")
	}
	shards, _ := os.ReadDir(filepath.Join(dir, "sha256"))
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(shards) != 0 || len(tmp) != 0 {
		t.Errorf("failed Put left files: shards %v, temporary %v", shards, tmp)
	}
}

func TestConcurrentPutsOfSameContent(t *testing.T) {
	s, dir := newStore(t)
	content := bytes.Repeat([]byte("abc"), 10_000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Put(bytes.NewReader(content))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Put: %v", err)
		}
	}
	hash := sum(content)
	files, _ := os.ReadDir(filepath.Join(dir, "sha256", hash[:2]))
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff([]string{hash}, names); diff != "" {
		t.Errorf("files in shard (-want +got):\n%s", diff)
	}
}

func TestNewRemovesStaleTemps(t *testing.T) {
	_, dir := newStore(t)
	stale := filepath.Join(dir, "tmp", "put-stale")
	fresh := filepath.Join(dir, "tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still exists: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file removed: %v", err)
	}
}
