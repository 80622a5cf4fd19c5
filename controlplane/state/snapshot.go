package state

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/raft"
)

// RecordType is the first byte of each snapshot record.
type RecordType uint8

// Record numbers are stored in snapshots, so they are append-only: add new
// record types at the end and never reuse or renumber one. Restore skips
// types it does not know, so a snapshot written by a newer version still
// loads, without the new tables.
const (
	RecordMeta      RecordType = 1
	RecordUser      RecordType = 2
	RecordWorkspace RecordType = 3
	RecordMember    RecordType = 4
	RecordAPIKey    RecordType = 5
	RecordProject   RecordType = 6
	RecordModel     RecordType = 7
	RecordActivity  RecordType = 8
	RecordEnd       RecordType = 255 // last record; a stream without it is truncated
)

// snapshotFormat is the version in the meta record. Restore refuses a
// higher one, for a change that skipping unknown records cannot express.
const snapshotFormat = 1

// maxRecordLen bounds one record's body so that a corrupt length cannot make
// Restore allocate without limit. The largest record is a model with full
// metadata, about 4 MiB at the metadata bounds.
const maxRecordLen = 16 << 20

type snapshotMeta struct {
	Format       int    `json:"format"`
	AppliedIndex uint64 `json:"appliedIndex"`
}

type snapshotEnd struct {
	Records int `json:"records"` // records before this one, skipped ones included
}

// RestoreStats describes the last successful Restore.
type RestoreStats struct {
	Records int                // records read, the end record excluded
	Skipped map[RecordType]int // records of unknown types, by type
}

// LastRestore returns statistics of the last successful Restore.
func (f *FSM) LastRestore() RestoreStats {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := f.restore
	if s.Skipped != nil {
		s.Skipped = cloneSkipped(s.Skipped)
	}
	return s
}

func cloneSkipped(m map[RecordType]int) map[RecordType]int {
	out := make(map[RecordType]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Snapshot captures the tables for raft. It copies the records, not their
// contents: stored records are never modified in place, so Persist may run
// while later entries are applied.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &fsmSnapshot{
		meta:       snapshotMeta{Format: snapshotFormat, AppliedIndex: f.applied},
		users:      sortedValues(f.t.users, func(u User) string { return u.ID }),
		workspaces: sortedValues(f.t.workspaces, func(w Workspace) string { return w.ID }),
		members:    f.t.sortedMembers(),
		keys:       sortedValues(f.t.keys, func(k APIKey) string { return k.ID }),
		projects:   sortedValues(f.t.projects, func(p Project) string { return p.ID }),
		models:     sortedValues(f.t.models, func(m Model) string { return m.ID }),
		nodeAddrs:  f.t.cluster.sortedNodeAddrs(),
		dayUsage:   f.t.cluster.sortedDayUsage(),
		events:     sortedValues(f.t.events, func(e Event) string { return e.ID }),
		deploys:    f.t.deployments.sorted(),
		account:    f.t.account.snapshot(),
	}, nil
}

// sortedValues returns the values of m sorted by id, so that snapshots do
// not depend on map iteration order.
func sortedValues[T any](m map[string]T, id func(T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out
}

func (t *tables) sortedMembers() []Member {
	var out []Member
	for _, byUser := range t.members {
		for _, m := range byUser {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(cmp.Compare(a.WorkspaceID, b.WorkspaceID), cmp.Compare(a.UserID, b.UserID))
	})
	return out
}

type fsmSnapshot struct {
	meta       snapshotMeta
	users      []User
	workspaces []Workspace
	members    []Member
	keys       []APIKey
	projects   []Project
	models     []Model
	nodeAddrs  []NodeAddr
	dayUsage   []DayUsage
	events     []Event
	deploys    []Deployment
	account    accountSnapshot
}

// Persist writes the snapshot as a stream of records: a type byte, a
// 4-byte big-endian body length and a JSON body.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.writeTo(sink); err != nil {
		return errors.Join(err, sink.Cancel())
	}
	return sink.Close()
}

func (s *fsmSnapshot) writeTo(w io.Writer) error {
	rw := &recordWriter{w: bufio.NewWriter(w)}
	rw.write(RecordMeta, s.meta)
	writeAll(rw, RecordUser, s.users)
	writeAll(rw, RecordWorkspace, s.workspaces)
	writeAll(rw, RecordMember, s.members)
	writeAll(rw, RecordAPIKey, s.keys)
	writeAll(rw, RecordProject, s.projects)
	writeAll(rw, RecordModel, s.models)
	writeAll(rw, RecordActivity, s.events)
	writeAll(rw, RecordNodeAddr, s.nodeAddrs)
	writeAll(rw, RecordDayUsage, s.dayUsage)
	writeAll(rw, RecordDeployment, s.deploys)
	s.account.writeTo(rw)
	rw.write(RecordEnd, snapshotEnd{Records: rw.count})
	if rw.err != nil {
		return rw.err
	}
	if err := rw.w.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// Release is a no-op because the snapshot holds only copied slices.
func (s *fsmSnapshot) Release() {}

// recordWriter writes records and keeps the first error, so the caller
// checks once at the end.
type recordWriter struct {
	w     *bufio.Writer
	count int
	err   error
}

func (rw *recordWriter) write(t RecordType, v any) {
	if rw.err != nil {
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		rw.err = fmt.Errorf("encode snapshot record %d: %w", t, err)
		return
	}
	var hdr [5]byte
	hdr[0] = byte(t)
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)))
	if _, err := rw.w.Write(hdr[:]); err != nil {
		rw.err = fmt.Errorf("write snapshot: %w", err)
		return
	}
	if _, err := rw.w.Write(body); err != nil {
		rw.err = fmt.Errorf("write snapshot: %w", err)
		return
	}
	rw.count++
}

func writeAll[T any](rw *recordWriter, t RecordType, records []T) {
	for _, r := range records {
		rw.write(t, r)
	}
}
