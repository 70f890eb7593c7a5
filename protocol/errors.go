package protocol

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Codecs wrap them, usually inside a [*DecodeError], so that
// callers can test with errors.Is.
var (
	// ErrTruncated: a frame ends before its content does.
	ErrTruncated = errors.New("protocol: truncated")
	// ErrChecksum: a frame's checksum or length field does not match its
	// content. Codecs accept such frames only in lenient mode.
	ErrChecksum = errors.New("protocol: bad checksum")
	// ErrUnsupported: a well-formed frame of a kind the codec does not know
	// (an unknown codec id or packet type that cannot be kept as raw data).
	ErrUnsupported = errors.New("protocol: unsupported")
	// ErrFrameTooLarge: a frame is longer than the codec's maximum frame size.
	ErrFrameTooLarge = errors.New("protocol: frame too large")
	// ErrMalformed: bytes or text that violate the protocol's syntax.
	ErrMalformed = errors.New("protocol: malformed")
	// ErrNoCommands: the codec or session cannot encode commands.
	ErrNoCommands = errors.New("protocol: commands not supported")
)

// DecodeError is a decoding failure at a byte offset. Offset counts from the
// start of the frame given to the session, or from the start of the stream
// when a [StreamDecoder] reports it.
type DecodeError struct {
	Protocol string // codec name, e.g. "teltonika"
	Offset   int    // byte offset of the fault
	Err      error  // the cause, wrapping one of the sentinels
}

// Errorf is shorthand for a [*DecodeError] whose cause wraps sentinel with a
// detail message ("" for none).
func Errorf(protocol string, offset int, sentinel error, detail string) *DecodeError {
	var err error = sentinel
	if detail != "" {
		err = &detailError{sentinel, detail}
	}
	return &DecodeError{Protocol: protocol, Offset: offset, Err: err}
}

// Error reads "teltonika: offset 57: bad checksum: ...".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Protocol)
	b.WriteString(": offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "protocol: "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

type detailError struct {
	sentinel error
	detail   string
}

func (e *detailError) Error() string { return e.sentinel.Error() + ": " + e.detail }
func (e *detailError) Unwrap() error { return e.sentinel }
