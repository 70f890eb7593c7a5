package protocol

import "slices"

// Grow makes room for n more parameters, so that the next n calls to Add or
// Set do not allocate. A decoder that knows the parameter count allocates a
// message's storage once, at its size.
func (m *Message) Grow(n int) { m.params = slices.Grow(m.params, n) }
