//go:build unix

package fdlimit

import (
	"syscall"
	"testing"
)

func TestRaise(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Lower the soft limit, as a parent process may have, then raise it.
	orig := lim
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	if lim.Max > 64 {
		low := lim
		low.Cur = 64
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Fatal(err)
		}
		if cur, err := Current(); err != nil || cur != 64 {
			t.Fatalf("Current() = %d, %v after lowering to 64", cur, err)
		}
	}
	got, err := Raise()
	if err != nil {
		t.Fatal(err)
	}
	if got != uint64(lim.Max) {
		t.Errorf("Raise() = %d, want the hard limit %d", got, lim.Max)
	}
	if cur, _ := Current(); cur != got {
		t.Errorf("Current() = %d after Raise() = %d", cur, got)
	}
}
