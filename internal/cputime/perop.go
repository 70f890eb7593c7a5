package cputime

// Bench is the part of a *testing.B that PerOp uses.
type Bench interface {
	ResetTimer()
	StopTimer()
	ReportMetric(n float64, unit string)
}

// PerOp resets b's timer and starts counting the process's CPU time. The
// func it returns stops the timer and reports that CPU time divided by ops
// as "cpu-ns/op". Call PerOp where the timed loop starts and its func,
// with b.N, where the loop ends.
func PerOp(b Bench) func(ops int) {
	start := Process()
	b.ResetTimer()
	return func(ops int) {
		b.StopTimer()
		b.ReportMetric(float64((Process()-start).Nanoseconds())/float64(max(ops, 1)), "cpu-ns/op")
	}
}
