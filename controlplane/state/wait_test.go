package state

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

func TestWaitAppliedReturnsAtIndex(t *testing.T) {
	f := New()
	done := make(chan error, 1)
	go func() { done <- f.WaitApplied(context.Background(), 2) }()

	// Entry 1 alone must not release a waiter for entry 2. A configuration
	// entry advances the index without touching the tables.
	f.Apply(&raft.Log{Index: 1, Type: raft.LogConfiguration})
	if got := f.AppliedIndex(); got != 1 {
		t.Fatalf("AppliedIndex = %d after entry 1, want 1", got)
	}
	select {
	case err := <-done:
		t.Fatalf("WaitApplied(2) returned %v after only entry 1 was applied", err)
	default:
	}

	f.ApplyBatch([]*raft.Log{{Index: 2, Type: raft.LogConfiguration}, {Index: 3, Type: raft.LogConfiguration}})
	if err := <-done; err != nil {
		t.Fatalf("WaitApplied(2) = %v after entries 2 and 3, want nil", err)
	}
	if err := f.WaitApplied(context.Background(), 3); err != nil {
		t.Errorf("WaitApplied(3) at applied index 3 = %v, want nil", err)
	}
}

func TestWaitAppliedHonorsContext(t *testing.T) {
	f := New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitApplied(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitApplied on a canceled context = %v, want context.Canceled", err)
	}
}

func TestWaitAppliedAfterRestore(t *testing.T) {
	src := newLog()
	src.must(t, createUser(1, "ada"))
	dst := New()
	done := make(chan error, 1)
	go func() { done <- dst.WaitApplied(context.Background(), src.index) }()
	if err := dst.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, src.fsm)))); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("WaitApplied(%d) after restoring a snapshot at that index = %v, want nil", src.index, err)
	}
}
