// Package fdlimit reads and raises this process's limit on open files. A
// load generator holds a socket per simulated client, and a server a
// socket per connection, so the limit bounds both; the example programs
// use this package instead of each carrying their own copy.
//
// Go programs already start with the soft limit raised to the hard limit
// (package os does it at initialisation since Go 1.19, and puts the
// original back for processes it starts). Raise makes that explicit and,
// with Current, tells a program how many files it may open, so that it
// can refuse a run that cannot fit rather than fail thousands of dials.
package fdlimit

import "errors"

// ErrUnsupported is returned where the operating system has no such
// limit to read.
var ErrUnsupported = errors.New("fdlimit: no open-file limit on this system")
