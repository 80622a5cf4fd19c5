package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func restoreFrom(t *testing.T, data []byte) (*FSM, error) {
	t.Helper()
	f := New()
	return f, f.Restore(io.NopCloser(bytes.NewReader(data)))
}

func TestSnapshotRoundTrip(t *testing.T) {
	l := newLog()
	for _, c := range sampleLog() {
		l.apply(t, c)
	}
	data := snapshotBytes(t, l.fsm)
	f, err := restoreFrom(t, data)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !bytes.Equal(snapshotBytes(t, f), data) {
		t.Errorf("snapshot after restore differs from the restored snapshot")
	}
	if got, want := f.AppliedIndex(), l.fsm.AppliedIndex(); got != want {
		t.Errorf("AppliedIndex after restore = %d, want %d", got, want)
	}
	if diff := cmp.Diff(l.fsm.t, f.t, cmp.AllowUnexported(tables{}), cmp.Comparer(equalIndex)); diff != "" {
		t.Errorf("tables after restore (-want +got):\n%s", diff)
	}
	stats := f.LastRestore()
	if stats.Records == 0 || len(stats.Skipped) != 0 {
		t.Errorf("LastRestore = %+v, want records and nothing skipped", stats)
	}
}

// equalIndex compares order indexes by their keys in order.
func equalIndex(a, b orderIndex) bool {
	keys := func(x orderIndex) []orderKey {
		var out []orderKey
		x.ascendAfter(nil, func(k orderKey) bool { out = append(out, k); return true })
		return out
	}
	return cmp.Equal(keys(a), keys(b), cmp.AllowUnexported(orderKey{}))
}

func TestSnapshotCoversEveryTable(t *testing.T) {
	l := newLog()
	for _, c := range sampleLog() {
		l.apply(t, c)
	}
	counts := recordCounts(t, snapshotBytes(t, l.fsm))
	want := map[RecordType]int{
		RecordMeta: 1, RecordUser: 2, RecordWorkspace: 2, RecordMember: 2, RecordAPIKey: 2,
		RecordProject: 2, RecordModel: 29, RecordEnd: 1,
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("records by type (-want +got):\n%s", diff)
	}
}

// record returns one encoded snapshot record.
func record(t RecordType, body string) []byte {
	out := []byte{byte(t), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)))
	return append(out, body...)
}

func TestRestoreSkipsUnknownRecords(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	data := snapshotBytes(t, l.fsm)
	endLen := len(record(RecordEnd, `{"records":5}`))
	body := data[:len(data)-endLen]

	var stream []byte
	stream = append(stream, body...)
	stream = append(stream, record(100, `{"future":true}`)...)
	stream = append(stream, record(100, `not even json`)...)
	stream = append(stream, record(101, ``)...)
	stream = append(stream, record(RecordEnd, `{"records":7}`)...)

	f, err := restoreFrom(t, stream)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if _, ok := f.UserByUsername("ada"); !ok {
		t.Errorf("user missing after a restore with unknown records")
	}
	want := RestoreStats{Records: 7, Skipped: map[RecordType]int{100: 2, 101: 1}}
	if diff := cmp.Diff(want, f.LastRestore()); diff != "" {
		t.Errorf("LastRestore (-want +got):\n%s", diff)
	}
}

func TestRestoreIsAllOrNothing(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	good := snapshotBytes(t, l.fsm)
	user := `{"id":"` + id(1) + `","username":"ada","createdAt":"2025-03-04T05:06:07Z"}`

	tests := []struct {
		name   string
		stream []byte
		want   error // nil: any error
	}{
		{"truncated", good[:len(good)-3], nil},
		{"no end record", good[:len(good)-len(record(RecordEnd, `{"records":4}`))], ErrInvalid},
		{"empty", nil, ErrInvalid},
		{"bad json", append(record(RecordUser, `{`), record(RecordEnd, `{"records":1}`)...), ErrInvalid},
		{"duplicate user", bytes.Join([][]byte{record(RecordUser, user), record(RecordUser, user), record(RecordEnd, `{"records":2}`)}, nil), ErrConflict},
		{"wrong count", append(record(RecordUser, user), record(RecordEnd, `{"records":3}`)...), ErrInvalid},
		{"newer format", append(record(RecordMeta, `{"format":2}`), record(RecordEnd, `{"records":1}`)...), ErrInvalid},
		{"huge length", []byte{byte(RecordUser), 0xff, 0xff, 0xff, 0xff}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New()
			if err := f.Restore(io.NopCloser(bytes.NewReader(good))); err != nil {
				t.Fatalf("Restore(good): %v", err)
			}
			err := f.Restore(io.NopCloser(bytes.NewReader(tt.stream)))
			if err == nil {
				t.Fatalf("Restore succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !bytes.Equal(snapshotBytes(t, f), good) {
				t.Errorf("a failed restore changed the state")
			}
		})
	}
}

func TestPersistCancelsOnWriteError(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	snap, err := l.fsm.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sink := &failingSink{}
	if err := snap.Persist(sink); err == nil {
		t.Errorf("Persist succeeded on a failing sink")
	}
	if !sink.cancelled || sink.closed {
		t.Errorf("sink cancelled=%v closed=%v, want cancelled only", sink.cancelled, sink.closed)
	}
}

type failingSink struct{ memSink }

func (s *failingSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }
