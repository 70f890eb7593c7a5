//go:build !unix

package embedded

import "time"

// cpuTime is not measured here: benchmarks report cpu-ns/op as 0.
func cpuTime() time.Duration { return 0 }
