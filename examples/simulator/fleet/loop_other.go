//go:build !linux

package fleet

import "context"

// useLoops is false in tests of the goroutine engine.
var useLoops = false

// runLoops: event loops are Linux's; elsewhere every device is a
// goroutine.
func (s *sim) runLoops(context.Context) bool { return false }
