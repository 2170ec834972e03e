package server

import (
	"math"
	"testing"
	"time"
)

// The timer heap holds one entry per operation and forgets it when the
// operation ends, so answered frames never accumulate.
func TestTimerHeapBounded(t *testing.T) {
	c := &conn{timer: time.NewTimer(time.Hour)}
	defer c.timer.Stop()
	base := time.Now().Add(time.Hour)
	ops := make([]*op, 1000)
	for i := range ops {
		o := &op{}
		o.timer = timerEntry{op: o}
		ops[i] = o
		c.setTimer(&o.timer, base.Add(time.Duration(1000-i)*time.Millisecond))
		c.setTimer(&o.timer, base.Add(time.Duration(i)*time.Millisecond)) // moved, not duplicated
	}
	if c.timers.Len() != len(ops) {
		t.Fatalf("%d entries for %d operations", c.timers.Len(), len(ops))
	}
	if c.timers[0] != &ops[0].timer {
		t.Fatal("earliest entry is not first")
	}
	for i := 0; i < len(ops); i += 2 {
		c.clearTimer(&ops[i].timer)
		c.clearTimer(&ops[i].timer) // idempotent
	}
	if c.timers.Len() != len(ops)/2 || c.timers[0] != &ops[1].timer {
		t.Fatalf("after clearing: %d entries", c.timers.Len())
	}
	for _, o := range ops {
		c.clearTimer(&o.timer)
	}
	if c.timers.Len() != 0 {
		t.Fatalf("%d entries left", c.timers.Len())
	}
}

func TestRecentSetWindow(t *testing.T) {
	var r recentSet[uint32]
	for i := uint32(1); i <= recentSetSize+10; i++ {
		if r.has(i) {
			t.Fatalf("%d seen before it was added", i)
		}
		r.add(i)
	}
	for i := uint32(1); i <= 10; i++ {
		if r.has(i) {
			t.Fatalf("%d still remembered beyond the window", i)
		}
	}
	for i := uint32(11); i <= recentSetSize+10; i++ {
		if !r.has(i) {
			t.Fatalf("%d forgotten inside the window", i)
		}
	}
	if len(r.set) != recentSetSize {
		t.Fatalf("set holds %d", len(r.set))
	}
}

func TestSessionIDsAreNotReused(t *testing.T) {
	var r registry
	r.init()
	a, _ := r.allocate(0)
	b, _ := r.allocate(0)
	r.release(a, nil)
	c, _ := r.allocate(0)
	if a != 1 || b != 2 || c != 3 {
		t.Fatalf("ids %d %d %d, want 1 2 3 (a closed session's id is not handed out again)", a, b, c)
	}
	if _, ok := r.allocate(2); ok {
		t.Fatal("requested id 2 granted while live")
	}
	if id, ok := r.allocate(1); !ok || id != 1 {
		t.Fatalf("requested free id 1: %d %v", id, ok)
	}
	r.next = math.MaxUint32 - 1
	d, _ := r.allocate(0)
	e, _ := r.allocate(0) // wraps past 0 and the live ids 1, 2, 3
	if d != math.MaxUint32 || e != 4 {
		t.Fatalf("around the wrap: %d %d", d, e)
	}
}
