package filter

// DefaultMaxSteps is the step budget of one evaluation when
// [Limits.MaxSteps] is zero: 2 Mi steps. A step is about a nanosecond of
// work: one character comparison of a wildcard match, one byte of a JSON
// member-by-member scan (a lookup outside the single pass over a raw
// message, json(), a selector's path), or four bytes of a block scan (the
// single pass, which reads bit masks; a string compared, searched or
// converted). At this budget the worst $filter the default limits allow,
// over a 1 MiB payload, gives up after a few milliseconds
// (BenchmarkWorstFilter), while an expression that reads a 1 MiB payload
// and matches a pattern against a 1 MiB string still fits.
const DefaultMaxSteps = 1 << 21

// fastBytesPerStep is how many bytes of a block scan one step pays for.
// Measured on this project's machine, the single pass and string
// operations cost a fifth or less of a wildcard step per byte, a
// member-by-member scan about half to one step.
const fastBytesPerStep = 4

// Budget is the work an evaluation may still do, in steps (see
// [DefaultMaxSteps]). Spending past it makes the evaluation give up: no
// match, and an error wrapping [ErrBudget]. One Budget serves one evaluation
// (or one decision made of several, such as a selector with several terms);
// it is not safe for concurrent use. The zero Budget has no steps left.
type Budget struct {
	left int
	over bool
}

// NewBudget returns a budget of steps; steps <= 0 means [DefaultMaxSteps].
func NewBudget(steps int) *Budget {
	b := newBudget(steps)
	return &b
}

func newBudget(steps int) Budget {
	if steps <= 0 {
		steps = DefaultMaxSteps
	}
	return Budget{left: steps}
}

// Spend takes n steps and reports whether the budget still holds. Once it
// fails it keeps failing.
func (b *Budget) Spend(n int) bool {
	if b.over {
		return false
	}
	b.left -= n
	if b.left < 0 {
		b.over = true
		return false
	}
	return true
}

// SpendScan takes the steps of a byte-by-byte scan over n bytes (one step
// a byte).
func (b *Budget) SpendScan(n int) bool { return b.Spend(1 + n) }

// spendFast takes the steps of a block scan over n bytes.
func (b *Budget) spendFast(n int) bool { return b.Spend(1 + n/fastBytesPerStep) }

// Exceeded reports whether spending has gone past the budget.
func (b *Budget) Exceeded() bool { return b.over }

// Left returns the steps left (0 once exceeded).
func (b *Budget) Left() int { return max(b.left, 0) }

// Err returns an error wrapping ErrBudget once the budget is exceeded, else
// nil.
func (b *Budget) Err() error {
	if b.over {
		return ErrBudget
	}
	return nil
}

// costSource is a Source whose lookups scan a document: each lookup is
// charged its size (see messageObject, payloadSource).
type costSource interface {
	lookupBytes() int
}
