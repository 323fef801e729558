package chip

import "github.com/google/btree"

// wakeQueue holds the tick of each core's next wake (core.Core.NextWake), ordered by tick,
// then core, so that the engine finds the next tick in which a core must step without input
// in O(log cores) and skips the ticks in between. It holds one entry per core at most.
type wakeQueue struct {
	tree *btree.BTreeG[wakeKey]
	at   []int32 // per core: its tick in the queue, or -1
}

type wakeKey struct{ tick, core int32 }

func newWakeQueue(cores int) *wakeQueue {
	q := &wakeQueue{tree: btree.NewG(16, func(a, b wakeKey) bool {
		return a.tick < b.tick || (a.tick == b.tick && a.core < b.core)
	}), at: make([]int32, cores)}
	for c := range q.at {
		q.at[c] = -1
	}
	return q
}

// set makes tick the wake of core c; a tick outside [0, horizon) leaves it none.
func (q *wakeQueue) set(c int32, tick, horizon int) {
	if tick < 0 || tick >= horizon {
		tick = -1
	}
	if int(q.at[c]) == tick {
		return
	}
	if q.at[c] >= 0 {
		q.tree.Delete(wakeKey{q.at[c], c})
	}
	q.at[c] = int32(tick)
	if tick >= 0 {
		q.tree.ReplaceOrInsert(wakeKey{int32(tick), c})
	}
}

// popBefore removes the wakes before tick t, calling fn with their cores in queue order.
func (q *wakeQueue) popBefore(t int, fn func(c int32)) {
	for {
		m, ok := q.tree.Min()
		if !ok || int(m.tick) >= t {
			return
		}
		q.tree.DeleteMin()
		q.at[m.core] = -1
		fn(m.core)
	}
}

// next is the earliest wake; ok is false if no core has one.
func (q *wakeQueue) next() (tick int, ok bool) {
	m, ok := q.tree.Min()
	return int(m.tick), ok
}
