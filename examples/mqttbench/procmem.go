package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// memSample is one reading of a process's memory, in bytes. Fields the
// kernel did not give are zero; Pss and Anon come from smaps_rollup, which
// needs ptrace access to the process (root or the same user).
type memSample struct {
	RSS   int64 `json:"rss_bytes"`           // VmRSS: resident now
	HWM   int64 `json:"hwm_bytes"`           // VmHWM: peak resident since start
	Pss   int64 `json:"pss_bytes,omitempty"` // proportional share, shared pages divided
	Anon  int64 `json:"anon_bytes,omitempty"`
	Smaps bool  `json:"smaps_rollup"` // whether Pss and Anon were readable
}

// readMem samples the memory of process pid from /proc.
func readMem(pid int) (memSample, error) {
	var m memSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("mqttbench: broker memory: %w", err)
	}
	kb := parseKB(status, "VmRSS:", "VmHWM:")
	m.RSS, m.HWM = kb[0], kb[1]
	if m.RSS == 0 {
		return m, fmt.Errorf("mqttbench: /proc/%d/status has no VmRSS (a kernel thread or a zombie?)", pid)
	}
	if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		kb := parseKB(rollup, "Pss:", "Anonymous:")
		m.Pss, m.Anon, m.Smaps = kb[0], kb[1], kb[0] > 0
	}
	return m, nil
}

// parseKB returns, for each key, the value of the first line "key N kB"
// in bytes (0 when absent).
func parseKB(text []byte, keys ...string) []int64 {
	out := make([]int64, len(keys))
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		for i, k := range keys {
			if out[i] == 0 && string(f[0]) == k {
				if n, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
					out[i] = n * 1024
				}
			}
		}
	}
	return out
}
