package raftnode

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// BenchmarkStoreLogsWritePath repeats the disk writes of one write on a
// three-voter cluster with a single client: the leader stores the entry,
// then both followers store it at the same time. Each raft-boltdb store is
// a bbolt commit with two fdatasync calls, so this is the floor that the
// disk sets under the one-client replicated write. Run it with the data
// directory on the disk under test (TMPDIR).
func BenchmarkStoreLogsWritePath(b *testing.B) {
	var stores []*raftboltdb.BoltStore
	for range 3 {
		s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(b.TempDir(), "raft.db")})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	data := make([]byte, 400)
	for i := uint64(1); b.Loop(); i++ {
		logs := []*raft.Log{{Index: i, Term: 1, Data: data}}
		if err := stores[0].StoreLogs(logs); err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, s := range stores[1:] {
			wg.Go(func() {
				if err := s.StoreLogs(logs); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkStoreLogsOne is one raft-boltdb store of one entry.
func BenchmarkStoreLogsOne(b *testing.B) {
	s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(b.TempDir(), "raft.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 400)
	for i := uint64(1); b.Loop(); i++ {
		if err := s.StoreLogs([]*raft.Log{{Index: i, Term: 1, Data: data}}); err != nil {
			b.Fatal(err)
		}
	}
}
