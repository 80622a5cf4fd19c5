package blob

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSyncFetchesAndDeletes runs one sync pass on a store that lacks a
// referenced blob, holds an old unreferenced blob and a young one. It must
// fetch the first from the peer, delete the old orphan and keep the young
// one, which may belong to an upload whose record is not committed yet.
func TestSyncFetchesAndDeletes(t *testing.T) {
	peer, _ := newStore(t)
	local, _ := newStore(t)
	referenced, _, err := peer.Put(strings.NewReader("referenced model"))
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := local.Put(strings.NewReader("deleted long ago"))
	if err != nil {
		t.Fatal(err)
	}
	young, _, err := local.Put(strings.NewReader("upload in flight"))
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * orphanGrace)
	if err := os.Chtimes(local.Path(old), past, past); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	local.SetFetcher(copyFrom(peer, &calls))

	local.syncOnce(context.Background(), []string{referenced}, map[string]bool{}, true, slog.New(slog.DiscardHandler))

	if !local.Has(referenced) {
		t.Errorf("referenced blob %s was not fetched", referenced[:12])
	}
	if local.Has(old) {
		t.Errorf("old unreferenced blob %s was kept", old[:12])
	}
	if !local.Has(young) {
		t.Errorf("young unreferenced blob %s was deleted", young[:12])
	}
	if calls.Load() != 1 {
		t.Errorf("fetcher called %d times, want 1", calls.Load())
	}
}

// TestSyncWithoutFetcherKeepsGoing checks that a store with no peers, such
// as the one voter of `yoloplane serve`, skips blobs it lacks.
func TestSyncWithoutFetcherKeepsGoing(t *testing.T) {
	local, _ := newStore(t)
	missing := strings.Repeat("ab", 32)
	local.syncOnce(context.Background(), []string{missing}, map[string]bool{}, true, slog.New(slog.DiscardHandler))
	if local.Has(missing) {
		t.Errorf("blob %s appeared without a fetcher", missing[:12])
	}
}
