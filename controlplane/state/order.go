package state

import (
	"time"

	"github.com/google/btree"
)

// orderKey is the list order of a record: creation time, then ID to break
// ties. IDs are unique, so no two records share a key.
type orderKey struct {
	created time.Time
	id      string
}

func lessOrderKey(a, b orderKey) bool {
	if c := a.created.Compare(b.created); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// btreeDegree sets the node size of the order indexes. NOTE: 32 is a
// common choice for in-memory trees of small keys, not a measured one.
const btreeDegree = 32

// orderIndex lists record IDs in (created, id) order. The zero value is not
// usable; make one with newOrderIndex.
type orderIndex struct {
	tree *btree.BTreeG[orderKey]
}

func newOrderIndex() orderIndex {
	return orderIndex{tree: btree.NewG(btreeDegree, lessOrderKey)}
}

func (x orderIndex) insert(k orderKey) { x.tree.ReplaceOrInsert(k) }
func (x orderIndex) remove(k orderKey) { x.tree.Delete(k) }
func (x orderIndex) len() int          { return x.tree.Len() }

// ascendAfter calls fn for each key strictly after from (or from the start
// when from is nil) until fn returns false.
func (x orderIndex) ascendAfter(from *orderKey, fn func(orderKey) bool) {
	if from == nil {
		x.tree.Ascend(fn)
		return
	}
	x.tree.AscendGreaterOrEqual(*from, func(k orderKey) bool {
		if !lessOrderKey(*from, k) {
			return true // k is from itself
		}
		return fn(k)
	})
}

// indexSet is a family of order indexes keyed by a parent ID, such as the
// projects of each workspace.
type indexSet map[string]orderIndex

func (s indexSet) insert(parent string, k orderKey) {
	x, ok := s[parent]
	if !ok {
		x = newOrderIndex()
		s[parent] = x
	}
	x.insert(k)
}

func (s indexSet) remove(parent string, k orderKey) {
	x, ok := s[parent]
	if !ok {
		return
	}
	x.remove(k)
	if x.len() == 0 {
		delete(s, parent)
	}
}
