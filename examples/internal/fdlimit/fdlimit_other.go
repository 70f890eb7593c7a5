//go:build !unix

package fdlimit

// Current returns [ErrUnsupported].
func Current() (uint64, error) { return 0, ErrUnsupported }

// Raise returns [ErrUnsupported].
func Raise() (uint64, error) { return 0, ErrUnsupported }
