package broker

import "fmt"

// compileSpec turns a "$filter" spec into a Predicate.
func compileSpec(spec string) (Predicate, error) {
	// The flespi expression language lives in package filter, which is not
	// integrated yet: refuse rather than pretend to filter.
	return nil, fmt.Errorf("%w: $filter spec %q: evaluation needs package filter, not integrated yet", ErrUnsupported, spec)
}
