package cputime

import (
	"runtime"
	"testing"
	"time"
)

func TestProcessGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("not read on this system")
	}
	before := Process()
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	if after := Process(); after <= before {
		t.Fatalf("CPU time %v after %d loops, %v before", after, x, before)
	}
}

type fakeBench struct {
	reset, stopped bool
	value          float64
	unit           string
}

func (f *fakeBench) ResetTimer()                      { f.reset = true }
func (f *fakeBench) StopTimer()                       { f.stopped = true }
func (f *fakeBench) ReportMetric(n float64, u string) { f.value, f.unit = n, u }

func TestPerOp(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("not read on this system")
	}
	var b fakeBench
	done := PerOp(&b)
	for start := time.Now(); time.Since(start) < 20*time.Millisecond; {
	}
	done(10)
	if !b.reset || !b.stopped || b.unit != "cpu-ns/op" || b.value < float64(time.Millisecond)/10 {
		t.Fatalf("%+v: want the timer reset and stopped, and at least 0.1 ms of CPU per op over 10 ops", b)
	}
}
