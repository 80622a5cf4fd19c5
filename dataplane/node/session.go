package node

import (
	"log/slog"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// session is one warm model of a deployment. Predicts hold a reference
// while they run, so that a retired session is closed only after the last
// of them returns.
type session struct {
	ref    wire.ModelRef
	model  *predict.Model
	warmup time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	refs    int
	retired bool
}

// acquire takes a reference, or returns false when the session is retired.
func (s *session) acquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retired {
		return false
	}
	s.refs++
	return true
}

// release drops a reference and closes a retired session when it was the
// last one.
func (s *session) release() {
	s.mu.Lock()
	s.refs--
	closeNow := s.retired && s.refs == 0
	s.mu.Unlock()
	if closeNow {
		s.close()
	}
}

// retire stops new predicts from acquiring the session and closes it once
// the predicts in flight have returned.
func (s *session) retire() {
	s.mu.Lock()
	if s.retired {
		s.mu.Unlock()
		return
	}
	s.retired = true
	closeNow := s.refs == 0
	s.mu.Unlock()
	if closeNow {
		s.close()
	}
}

func (s *session) close() {
	if err := s.model.Close(); err != nil {
		s.log.Error("close model session failed", "model_id", s.ref.ModelID, "sha256", s.ref.SHA256, "error", err)
		return
	}
	s.log.Info("released model session", "model_id", s.ref.ModelID, "sha256", s.ref.SHA256)
}
