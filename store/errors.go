package store

import "errors"

// Sentinel errors. Implementations return them (possibly wrapped once with
// context) so that callers can steer with errors.Is.
var (
	// ErrClosed: the store was closed; nothing more can be done with it.
	ErrClosed = errors.New("store: closed")
	// ErrFull: the log reached its size cap and its overflow policy is
	// [Block]. Nothing of the batch was stored. A channel stops acknowledging
	// (the tracker keeps its data and resends) until consumers commit or age
	// retention frees space.
	ErrFull = errors.New("store: full")
	// ErrNotFound: no such consumer or device.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalid: a bad argument: a message without ident or timestamp where
	// one is required, a cursor beyond the end of the log, an empty name.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrFenced: a consumer's position was committed by a newer lease
	// holder ([Fenced]); the caller lost its lease and must stop.
	ErrFenced = errors.New("store: fenced by a newer lease holder")
	// ErrTooLarge: a batch larger than the log's size cap can never fit.
	ErrTooLarge = errors.New("store: batch larger than the size cap")
)

// CorruptError reports stored data that cannot be decoded. It is never
// expected: engines checksum what they write and discard torn writes.
type CorruptError struct {
	Key string // engine-specific location, printable
	Err error  // the decoding failure
}

func (e *CorruptError) Error() string { return "store: corrupt record " + e.Key + ": " + e.Err.Error() }

// Unwrap returns the decoding failure.
func (e *CorruptError) Unwrap() error { return e.Err }
