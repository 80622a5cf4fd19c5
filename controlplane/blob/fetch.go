package blob

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Fetcher copies the blob with this hash from another node into dst,
// through dst.PutExpect so that the content is checked against the hash.
// Ensure calls it from request goroutines; it may block on the network and
// must honor ctx.
type Fetcher func(ctx context.Context, hash string, dst *Store) error

// fetchState is the fetcher and the fetches in flight, shared by Ensure
// calls.
type fetchState struct {
	mu       sync.Mutex
	fetcher  Fetcher
	inFlight map[string]*fetchCall
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// SetFetcher installs the fetcher Ensure uses for missing blobs. Nil turns
// fetching off.
func (s *Store) SetFetcher(f Fetcher) {
	s.fetch.mu.Lock()
	s.fetch.fetcher = f
	s.fetch.mu.Unlock()
}

// Ensure makes the blob with this hash present in the store, fetching it
// with the fetcher when it is missing. Concurrent calls for one hash share
// one fetch. Without a fetcher a missing blob returns an error wrapping
// ErrNotFound.
func (s *Store) Ensure(ctx context.Context, hash string) error {
	if err := ValidateHash(hash); err != nil {
		return err
	}
	if s.Has(hash) {
		return nil
	}
	s.fetch.mu.Lock()
	f := s.fetch.fetcher
	if f == nil {
		s.fetch.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrNotFound, hash)
	}
	call, running := s.fetch.inFlight[hash]
	if !running {
		call = &fetchCall{done: make(chan struct{})}
		if s.fetch.inFlight == nil {
			s.fetch.inFlight = map[string]*fetchCall{}
		}
		s.fetch.inFlight[hash] = call
	}
	s.fetch.mu.Unlock()
	if !running {
		// The fetch outlives a caller that gives up, so that the callers
		// sharing it are not cut off by the first one's context.
		go s.runFetch(f, hash, call)
	}
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchTimeout bounds one fetch, which may copy a model file of a gigabyte.
const fetchTimeout = 10 * time.Minute

func (s *Store) runFetch(f Fetcher, hash string, call *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	call.err = f(ctx, hash, s)
	if call.err == nil && !s.Has(hash) {
		call.err = fmt.Errorf("fetch blob %s: the fetcher returned without storing it", hash)
	}
	s.fetch.mu.Lock()
	delete(s.fetch.inFlight, hash)
	s.fetch.mu.Unlock()
	close(call.done)
}
