package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// id returns the n-th test ID.
func id(n int) string { return fmt.Sprintf("%024x", n) }

func hash(n int) string { return fmt.Sprintf("%064x", n) }

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptr[T any](v T) *T { return &v }

// log feeds commands to an FSM as raft would, numbering entries from 1.
type log struct {
	fsm   *FSM
	index uint64
}

func newLog() *log { return &log{fsm: New()} }

func (l *log) entry(tb testing.TB, cmd Command) *raft.Log {
	tb.Helper()
	data, err := Encode(cmd)
	if err != nil {
		tb.Fatalf("Encode(%T): %v", cmd, err)
	}
	l.index++
	return &raft.Log{Index: l.index, Term: 1, Type: raft.LogCommand, Data: data}
}

// apply applies cmd and returns the FSM's result and error.
func (l *log) apply(tb testing.TB, cmd Command) (any, error) {
	tb.Helper()
	resp := l.fsm.Apply(l.entry(tb, cmd))
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

// must applies cmd and fails the test when it returns an error.
func (l *log) must(tb testing.TB, cmd Command) any {
	tb.Helper()
	v, err := l.apply(tb, cmd)
	if err != nil {
		tb.Fatalf("apply %T: %v", cmd, err)
	}
	return v
}

func createUser(n int, name string) *CreateUser {
	return &CreateUser{UserID: id(n), WorkspaceID: id(n + 1), Username: name, Email: name + "@example.com", CreatedAt: at(n)}
}

func createProject(n, ws int, slug string) *CreateProject {
	return &CreateProject{ProjectID: id(n), WorkspaceID: id(ws), Slug: slug, Name: slug, CreatedAt: at(n)}
}

func createModel(n, project int, slug string) *CreateModel {
	return &CreateModel{
		ModelID: id(n), ProjectID: id(project), Slug: slug, Name: slug, Task: "detect",
		Format: FormatONNX, FileSHA256: hash(n), FileSize: 1234, Status: ModelStatusReady,
		Metadata: map[string]string{"names": `{"0":"person"}`, "imgsz": "[640,640]"}, CreatedAt: at(n),
	}
}

// snapshotBytes persists a snapshot of f and returns its bytes.
func snapshotBytes(tb testing.TB, f *FSM) []byte {
	tb.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		tb.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		tb.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		tb.Fatalf("Persist left sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

// recordCounts returns how many records of each type a snapshot has.
func recordCounts(tb testing.TB, data []byte) map[RecordType]int {
	tb.Helper()
	counts := map[RecordType]int{}
	r := bytes.NewReader(data)
	for r.Len() > 0 {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			tb.Fatalf("read header: %v", err)
		}
		counts[RecordType(hdr[0])]++
		r.Seek(int64(binary.BigEndian.Uint32(hdr[1:])), io.SeekCurrent)
	}
	return counts
}

// restoreCopy restores a snapshot of f into a new FSM, checks that the
// copy snapshots to the same bytes, and returns the copy and the snapshot.
func restoreCopy(tb testing.TB, f *FSM) (*FSM, []byte) {
	tb.Helper()
	data := snapshotBytes(tb, f)
	restored := New()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		tb.Fatalf("Restore: %v", err)
	}
	if !bytes.Equal(snapshotBytes(tb, restored), data) {
		tb.Errorf("snapshot after restore differs from the restored snapshot")
	}
	return restored, data
}
