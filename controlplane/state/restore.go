package state

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Restore replaces the whole state with a snapshot written by Persist. It
// is all or nothing: on any error the current state is left untouched.
// Records of unknown types are skipped and counted in LastRestore. Raft
// never calls Restore concurrently with Apply.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	t, meta, stats, err := readSnapshot(bufio.NewReader(rc))
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notifyLocked(f.applied)
	f.t = t
	f.applied = meta.AppliedIndex
	f.restore = stats
	return nil
}

func readSnapshot(r *bufio.Reader) (*tables, snapshotMeta, RestoreStats, error) {
	t := newTables()
	var meta snapshotMeta
	stats := RestoreStats{}
	for {
		rt, body, err := readRecord(r)
		if err != nil {
			return nil, meta, stats, err
		}
		if rt == RecordEnd {
			return t, meta, stats, checkEnd(body, stats.Records)
		}
		stats.Records++
		known, err := t.loadRecord(rt, body, &meta)
		if err != nil {
			return nil, meta, stats, fmt.Errorf("record %d (type %d): %w", stats.Records, rt, err)
		}
		if !known {
			if stats.Skipped == nil {
				stats.Skipped = map[RecordType]int{}
			}
			stats.Skipped[rt]++
		}
	}
}

func readRecord(r *bufio.Reader) (RecordType, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, fmt.Errorf("%w: snapshot ends without an end record", ErrInvalid)
		}
		return 0, nil, fmt.Errorf("read record header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxRecordLen {
		return 0, nil, fmt.Errorf("%w: record length %d is more than the maximum %d", ErrInvalid, n, maxRecordLen)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("read record body of %d bytes: %w", n, err)
	}
	return RecordType(hdr[0]), body, nil
}

func checkEnd(body []byte, records int) error {
	var end snapshotEnd
	if err := json.Unmarshal(body, &end); err != nil {
		return fmt.Errorf("%w: decode end record: %w", ErrInvalid, err)
	}
	if end.Records != records {
		return fmt.Errorf("%w: end record counts %d records, the stream has %d", ErrInvalid, end.Records, records)
	}
	return nil
}

// loadRecord decodes one record into t. It returns false for a record type
// this version does not know.
func (t *tables) loadRecord(rt RecordType, body []byte, meta *snapshotMeta) (bool, error) {
	switch rt {
	case RecordMeta:
		return true, loadMeta(body, meta)
	case RecordUser:
		return true, load(body, t.loadUser)
	case RecordWorkspace:
		return true, load(body, t.loadWorkspace)
	case RecordMember:
		return true, load(body, t.loadMember)
	case RecordAPIKey:
		return true, load(body, t.loadKey)
	case RecordProject:
		return true, load(body, t.loadProject)
	case RecordModel:
		return true, load(body, t.loadModel)
	case RecordNodeAddr:
		return true, load(body, t.cluster.loadNodeAddr)
	case RecordDayUsage:
		return true, load(body, t.cluster.loadDayUsage)
	case RecordActivity:
		return true, load(body, t.loadEvent)
	case RecordDeployment:
		return true, load(body, t.deployments.load)
	}
	return t.account.loadRecord(rt, body)
}

func loadMeta(body []byte, meta *snapshotMeta) error {
	if err := json.Unmarshal(body, meta); err != nil {
		return fmt.Errorf("%w: decode meta record: %w", ErrInvalid, err)
	}
	if meta.Format > snapshotFormat {
		return fmt.Errorf("%w: snapshot format %d is newer than %d: upgrade this node", ErrInvalid, meta.Format, snapshotFormat)
	}
	return nil
}

func load[T any](body []byte, put func(T) error) error {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	return put(v)
}

// The load functions check only what would corrupt the indexes: a record
// that repeats an ID or a unique name.

func (t *tables) loadUser(u User) error {
	if _, ok := t.users[u.ID]; ok {
		return fmt.Errorf("%w: user %q appears twice", ErrConflict, u.ID)
	}
	if _, ok := t.userByName[u.Username]; ok {
		return fmt.Errorf("%w: username %q appears twice", ErrConflict, u.Username)
	}
	t.putUser(u)
	return nil
}

func (t *tables) loadWorkspace(w Workspace) error {
	if _, ok := t.workspaces[w.ID]; ok {
		return fmt.Errorf("%w: workspace %q appears twice", ErrConflict, w.ID)
	}
	if _, ok := t.workspaceBySlug[w.Slug]; ok {
		return fmt.Errorf("%w: workspace slug %q appears twice", ErrConflict, w.Slug)
	}
	t.putWorkspace(w)
	return nil
}

func (t *tables) loadMember(m Member) error {
	if _, ok := t.members[m.WorkspaceID][m.UserID]; ok {
		return fmt.Errorf("%w: member %q of workspace %q appears twice", ErrConflict, m.UserID, m.WorkspaceID)
	}
	t.putMember(m)
	return nil
}

func (t *tables) loadKey(k APIKey) error {
	if _, ok := t.keys[k.ID]; ok {
		return fmt.Errorf("%w: key %q appears twice", ErrConflict, k.ID)
	}
	if _, ok := t.keyByHash[k.Hash]; ok {
		return fmt.Errorf("%w: hash of key %q appears twice", ErrConflict, k.ID)
	}
	t.putKey(k)
	return nil
}

func (t *tables) loadProject(p Project) error {
	if _, ok := t.projects[p.ID]; ok {
		return fmt.Errorf("%w: project %q appears twice", ErrConflict, p.ID)
	}
	if _, ok := t.projectBySlug[childKey(p.WorkspaceID, p.Slug)]; ok && p.DeletedAt == nil {
		return fmt.Errorf("%w: project slug %q appears twice in workspace %q", ErrConflict, p.Slug, p.WorkspaceID)
	}
	t.putProject(p)
	return nil
}

func (t *tables) loadModel(m Model) error {
	if _, ok := t.models[m.ID]; ok {
		return fmt.Errorf("%w: model %q appears twice", ErrConflict, m.ID)
	}
	if _, ok := t.modelBySlug[childKey(m.ProjectID, m.Slug)]; ok && m.DeletedAt == nil {
		return fmt.Errorf("%w: model slug %q appears twice in project %q", ErrConflict, m.Slug, m.ProjectID)
	}
	t.putModel(m)
	return nil
}

func (t *tables) loadEvent(e Event) error {
	if _, ok := t.events[e.ID]; ok {
		return fmt.Errorf("%w: event %q appears twice", ErrConflict, e.ID)
	}
	t.putEvent(e)
	return nil
}
