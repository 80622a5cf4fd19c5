package predict

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/yoloplane/yoloplane/dataplane/inference"
)

// sessionSet holds the ONNX Runtime sessions of one model: a wide session
// whose intra-op thread pool spans every core, for a call that runs alone,
// and narrow sessions with one thread each, for calls that overlap.
//
// One session cannot serve both cases well. Measured on a 2-core Xeon VM
// with yolov8n_int8_640 (`yoloplane bench --raw --threads N --concurrency
// C`), one call on a 2-thread session takes 92 ms at p50, against 110 ms on
// a 1-thread session. But two callers on 1-thread sessions finish 15.7
// calls a second, against 10.5 for calls queued on the 2-thread session,
// because the pool's synchronisation after each layer idles the second
// core.
type sessionSet struct {
	wide  *inference.Session
	slots chan struct{}

	mu       sync.Mutex
	running  int
	wideBusy bool
	narrow   []*inference.Session // all narrow sessions, for Close
	free     []*inference.Session // narrow sessions not in use
}

// openSessions opens the wide session with cfg.Session and cfg.Slots-1
// narrow ones, so that cfg.Slots calls can run at once.
func openSessions(path string, cfg Config) (*sessionSet, error) {
	wide, err := inference.Open(path, cfg.Session)
	if err != nil {
		return nil, err // inference.Open names the file
	}
	s := &sessionSet{wide: wide, slots: make(chan struct{}, cfg.Slots)}
	narrowCfg := cfg.Session
	narrowCfg.IntraOpThreads = 1
	for range cfg.Slots - 1 {
		sess, err := inference.Open(path, narrowCfg)
		if err != nil {
			s.close()
			return nil, err
		}
		s.narrow = append(s.narrow, sess)
	}
	// A call that finds the wide session taken while others run needs a
	// narrow one even when the wide session is free again, so the pool of
	// narrow sessions is as large as the slot count minus the wide one.
	s.free = append(s.free, s.narrow...)
	return s, nil
}

// acquire waits for a free slot and returns the session to run on: the
// wide one when no other call is running, a narrow one otherwise.
func (s *sessionSet) acquire(ctx context.Context) (*inference.Session, error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free inference slot: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running++
	if !s.wideBusy && (s.running == 1 || len(s.free) == 0) {
		s.wideBusy = true
		return s.wide, nil
	}
	if len(s.free) == 0 {
		panic("BUG: predict: an inference slot was free but no session was")
	}
	sess := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	return sess, nil
}

// release returns a session that acquire handed out.
func (s *sessionSet) release(sess *inference.Session) {
	s.mu.Lock()
	s.running--
	if sess == s.wide {
		s.wideBusy = false
	} else {
		s.free = append(s.free, sess)
	}
	s.mu.Unlock()
	<-s.slots
}

// all returns every session, wide first.
func (s *sessionSet) all() []*inference.Session {
	return append([]*inference.Session{s.wide}, s.narrow...)
}

func (s *sessionSet) close() error {
	var errs []error
	for _, sess := range s.all() {
		errs = append(errs, sess.Close())
	}
	return errors.Join(errs...)
}
