package vision

// rowCache keeps the last two horizontally resized source rows. A vertical
// pass reads rows i0 and i1 of each output row, and consecutive output rows
// mostly reuse them, so two slots compute each source row about once.
type rowCache[T int32 | float64] struct {
	rows [2][]T
	tags [2]int
	// fill computes source row y into out.
	fill func(y int, out []T)
}

func newRowCache[T int32 | float64](width int, fill func(y int, out []T)) rowCache[T] {
	return rowCache[T]{
		rows: [2][]T{make([]T, width), make([]T, width)},
		tags: [2]int{-1, -1},
		fill: fill,
	}
}

// row returns source row y and its slot, computing it on a miss. The slot
// keep (or -1 for none) is never evicted.
func (c *rowCache[T]) row(y, keep int) ([]T, int) {
	for k := range 2 {
		if c.tags[k] == y {
			return c.rows[k], k
		}
	}
	k := 0
	if keep == 0 || (keep < 0 && c.tags[1] < c.tags[0]) {
		k = 1
	}
	c.fill(y, c.rows[k])
	c.tags[k] = y
	return c.rows[k], k
}
