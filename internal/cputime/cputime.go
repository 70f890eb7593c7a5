// Package cputime reads the CPU time this process has used. Benchmarks
// and load tools report it per operation beside wall time, which other
// work on a shared machine inflates while CPU time does not.
package cputime
