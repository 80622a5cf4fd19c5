package state

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRecordUsageRaisesOnly(t *testing.T) {
	l := newLog()
	l.must(t, &RecordUsage{Day: "2025-03-04", Counts: map[string]int64{"a": 5, "b": 2}})
	l.must(t, &RecordUsage{Day: "2025-03-04", Counts: map[string]int64{"a": 3, "b": 7}})
	if got := l.fsm.DayCount("a", "2025-03-04"); got != 5 {
		t.Errorf("count of a = %d, want 5 because a lower total must not lower it", got)
	}
	if got := l.fsm.DayCount("b", "2025-03-04"); got != 7 {
		t.Errorf("count of b = %d, want 7", got)
	}
	if got := l.fsm.DayCount("a", "2025-03-05"); got != 0 {
		t.Errorf("count of a on another day = %d, want 0", got)
	}
}

func TestRecordUsageDropsOldDays(t *testing.T) {
	l := newLog()
	l.must(t, &RecordUsage{Day: "2025-03-04", Counts: map[string]int64{"a": 5, "b": 2}})
	l.must(t, &RecordUsage{Day: "2025-03-05", Counts: map[string]int64{"b": 1}})
	if got := l.fsm.DayCount("a", "2025-03-04"); got != 0 {
		t.Errorf("count of a on the previous day = %d, want 0 after the day moved on", got)
	}
	if got := l.fsm.DayCount("b", "2025-03-05"); got != 1 {
		t.Errorf("count of b = %d, want 1", got)
	}
	// A late proposal for an older day must not replace a newer count.
	l.must(t, &RecordUsage{Day: "2025-03-04", Counts: map[string]int64{"b": 9}})
	if got := l.fsm.DayCount("b", "2025-03-05"); got != 1 {
		t.Errorf("count of b after a late proposal = %d, want 1", got)
	}
}

func TestRecordUsageInvalidDay(t *testing.T) {
	l := newLog()
	_, err := l.apply(t, &RecordUsage{Day: "04/03/2025", Counts: map[string]int64{"a": 1}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("apply with a malformed day: err = %v, want ErrInvalid", err)
	}
}

func TestSetNodeAddr(t *testing.T) {
	l := newLog()
	l.must(t, &SetNodeAddr{NodeID: "n1", HTTPAddr: "127.0.0.1:1"})
	l.must(t, &SetNodeAddr{NodeID: "n1", HTTPAddr: "127.0.0.1:2"})
	if got, ok := l.fsm.NodeHTTPAddr("n1"); !ok || got != "127.0.0.1:2" {
		t.Errorf("NodeHTTPAddr(n1) = %q, %v; want the later address", got, ok)
	}
	if _, err := l.apply(t, &SetNodeAddr{NodeID: "n2"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("apply without an address: err = %v, want ErrInvalid", err)
	}
}

func TestClusterRecordsSurviveSnapshot(t *testing.T) {
	l := newLog()
	l.must(t, &SetNodeAddr{NodeID: "n1", HTTPAddr: "127.0.0.1:1"})
	l.must(t, &RecordUsage{Day: "2025-03-04", Counts: map[string]int64{"a": 5}})
	snap, err := l.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.(*fsmSnapshot).writeTo(&buf); err != nil {
		t.Fatal(err)
	}
	f := New()
	if err := f.Restore(io.NopCloser(&buf)); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.NodeHTTPAddr("n1"); got != "127.0.0.1:1" {
		t.Errorf("restored NodeHTTPAddr(n1) = %q, want 127.0.0.1:1", got)
	}
	if got := f.DayCount("a", "2025-03-04"); got != 5 {
		t.Errorf("restored day count = %d, want 5", got)
	}
}
