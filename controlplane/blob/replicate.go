package blob

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// orphanGrace is how long a blob that no record references stays on disk.
// An upload writes its blob before the command that references it is
// committed, so a younger unreferenced blob may be one in flight.
const orphanGrace = 10 * time.Minute

// Sync makes the store hold exactly the referenced blobs: it fetches each
// referenced blob it lacks from a peer (when a fetcher is set) and deletes
// blobs that nothing references and that are older than orphanGrace. A
// voter runs it after every interval, so that a file uploaded through one
// voter survives the loss of that voter's disk, and a blob deleted through
// one voter is deleted on the others too. It returns when ctx ends.
func (s *Store) Sync(ctx context.Context, interval time.Duration, referenced func() []string, log *slog.Logger) {
	failed := map[string]bool{} // hashes whose last fetch failed, logged once
	t := time.NewTicker(interval)
	defer t.Stop()
	for round := 1; ; round++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.syncOnce(ctx, referenced(), failed, round%orphanSweepRounds == 0, log)
	}
}

// orphanSweepRounds is how many sync rounds pass between walks of the whole
// store for unreferenced blobs, which need not go as soon as missing ones
// must arrive.
const orphanSweepRounds = 30

func (s *Store) syncOnce(ctx context.Context, refs []string, failed map[string]bool, sweep bool, log *slog.Logger) {
	want := make(map[string]bool, len(refs))
	for _, hash := range refs {
		want[hash] = true
		if s.Has(hash) || !s.hasFetcher() {
			continue
		}
		err := s.Ensure(ctx, hash)
		switch {
		case err == nil && failed[hash]:
			delete(failed, hash)
			log.Info("fetched blob from a peer after earlier failures", "sha256", hash)
		case err != nil && !failed[hash] && ctx.Err() == nil:
			failed[hash] = true
			log.Warn("fetch referenced blob from peers failed, retrying on the next sync", "sha256", hash, "error", err)
		}
	}
	for hash := range failed {
		if !want[hash] {
			delete(failed, hash)
		}
	}
	if sweep {
		s.deleteOrphans(want, log)
	}
}

func (s *Store) hasFetcher() bool {
	s.fetch.mu.Lock()
	defer s.fetch.mu.Unlock()
	return s.fetch.fetcher != nil
}

// deleteOrphans deletes stored blobs that are not in want and are older
// than orphanGrace.
func (s *Store) deleteOrphans(want map[string]bool, log *slog.Logger) {
	cutoff := time.Now().Add(-orphanGrace)
	err := filepath.WalkDir(s.blobRoot(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		hash := d.Name()
		if want[hash] || ValidateHash(hash) != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Error("delete unreferenced blob failed", "sha256", hash, "error", err)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Error("list blobs failed", "dir", s.blobRoot(), "error", err)
	}
}
