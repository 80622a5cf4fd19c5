package blob

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// copyFrom returns a fetcher that reads blobs from src, as a peer would
// serve them, and counts its calls.
func copyFrom(src *Store, calls *atomic.Int64) Fetcher {
	return func(ctx context.Context, hash string, dst *Store) error {
		calls.Add(1)
		f, err := src.Open(hash)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = dst.PutExpect(f, hash)
		return err
	}
}

func TestEnsureFetchesFromPeer(t *testing.T) {
	peer, _ := newStore(t)
	local, _ := newStore(t)
	hash, _, err := peer.Put(strings.NewReader("model weights"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	local.SetFetcher(copyFrom(peer, &calls))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := local.Ensure(context.Background(), hash); err != nil {
				t.Errorf("Ensure: %v", err)
			}
		})
	}
	wg.Wait()
	if !local.Has(hash) {
		t.Fatal("blob missing after Ensure")
	}
	if n := calls.Load(); n < 1 || n > 8 {
		t.Errorf("fetcher called %d times, want 1 to 8", n)
	}
	calls.Store(0)
	if err := local.Ensure(context.Background(), hash); err != nil || calls.Load() != 0 {
		t.Errorf("Ensure of a present blob: err %v, %d fetches; want nil and none", err, calls.Load())
	}
}

func TestEnsureRejectsWrongContent(t *testing.T) {
	local, _ := newStore(t)
	want := strings.Repeat("ab", 32)
	local.SetFetcher(func(ctx context.Context, hash string, dst *Store) error {
		_, err := dst.PutExpect(strings.NewReader("tampered"), hash)
		return err
	})
	if err := local.Ensure(context.Background(), want); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Ensure with wrong content: err = %v, want ErrHashMismatch", err)
	}
	if local.Has(want) {
		t.Error("content with the wrong hash was stored")
	}
}

func TestEnsureWithoutFetcher(t *testing.T) {
	local, _ := newStore(t)
	if err := local.Ensure(context.Background(), strings.Repeat("cd", 32)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Ensure without a fetcher: err = %v, want ErrNotFound", err)
	}
}
