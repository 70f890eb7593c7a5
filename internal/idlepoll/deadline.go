package idlepoll

import (
	"sync"
	"time"
)

// Deadlines. A parked socket has nobody reading it, so its read deadline
// would never fire: its owner asks for a Wake at that time instead. With a
// time.Timer per socket that costs ~180 bytes per parked connection (the
// timer, and the closure it calls); here every socket's deadline is an
// entry in one min-heap ordered by time, served by a single time.Timer set
// to the earliest deadline: 12 bytes in the Socket and a slot in the heap.

// deadlineHeap holds the sockets with a deadline, earliest first.
type deadlineHeap struct {
	mu    sync.Mutex
	h     []*Socket
	timer *time.Timer
	at    int64 // when timer fires (Unix ns); 0: not set
}

var deadlines deadlineHeap

// WakeAt makes the socket Wake when the wall clock reaches t (Unix
// nanoseconds), replacing any deadline set before; t == 0 removes it. As
// with Wake, the deadline does nothing if the socket is not parked when it
// comes; it fires once. Stop removes it.
func (s *Socket) WakeAt(t int64) { deadlines.set(s, t) }

func (d *deadlineHeap) set(s *Socket, t int64) {
	d.mu.Lock()
	switch {
	case t == 0:
		if s.hidx > 0 {
			d.remove(int(s.hidx - 1))
		}
	case s.hidx > 0:
		old := s.due
		s.due = t
		if i := int(s.hidx - 1); t < old {
			d.up(i)
		} else {
			d.down(i)
		}
	default:
		s.due = t
		d.h = append(d.h, s)
		s.hidx = int32(len(d.h))
		d.up(len(d.h) - 1)
	}
	d.arm()
	d.mu.Unlock()
}

// arm sets the timer for the earliest deadline if it would fire later (or
// is not set). A timer that fires early, because the deadline it was set
// for has been moved or removed, finds nothing due and is set again: that
// is cheaper than resetting it at every change. d.mu is held.
func (d *deadlineHeap) arm() {
	if len(d.h) == 0 {
		return
	}
	next := d.h[0].due
	if d.at != 0 && d.at <= next {
		return
	}
	d.at = next
	wait := time.Until(time.Unix(0, next))
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

// fire wakes the sockets whose deadline has come.
func (d *deadlineHeap) fire() {
	var buf [32]*Socket
	for {
		due := buf[:0]
		d.mu.Lock()
		now := time.Now().UnixNano()
		for len(d.h) > 0 && d.h[0].due <= now && len(due) < len(buf) {
			due = append(due, d.h[0])
			d.remove(0)
		}
		more := len(d.h) > 0 && d.h[0].due <= now
		if !more {
			d.at = 0
			d.arm()
		}
		d.mu.Unlock()
		// Outside the lock: Wake starts a goroutine, and an owner may be
		// setting its next deadline meanwhile.
		for _, s := range due {
			s.Wake()
		}
		if !more {
			return
		}
	}
}

// remove takes the entry at i out of the heap; d.mu is held.
func (d *deadlineHeap) remove(i int) {
	s := d.h[i]
	last := len(d.h) - 1
	if i != last {
		d.swap(i, last)
	}
	d.h[last] = nil
	d.h = d.h[:last]
	s.hidx = 0
	if i != last {
		d.down(i)
		d.up(i)
	}
	if cap(d.h) > 1024 && len(d.h) < cap(d.h)/4 {
		// Give back the memory of a burst of parked connections.
		d.h = append([]*Socket(nil), d.h...)
	}
}

func (d *deadlineHeap) swap(i, j int) {
	d.h[i], d.h[j] = d.h[j], d.h[i]
	d.h[i].hidx = int32(i + 1)
	d.h[j].hidx = int32(j + 1)
}

func (d *deadlineHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if d.h[p].due <= d.h[i].due {
			return
		}
		d.swap(i, p)
		i = p
	}
}

func (d *deadlineHeap) down(i int) {
	n := len(d.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && d.h[r].due < d.h[l].due {
			m = r
		}
		if d.h[i].due <= d.h[m].due {
			return
		}
		d.swap(i, m)
		i = m
	}
}

// pendingDeadlines returns how many sockets have a deadline; for tests.
func pendingDeadlines() int {
	deadlines.mu.Lock()
	defer deadlines.mu.Unlock()
	return len(deadlines.h)
}
