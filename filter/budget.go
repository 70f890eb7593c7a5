package filter

// DefaultMaxSteps is the step budget of one evaluation when
// [Limits.MaxSteps] is zero: 4 Mi steps. A step is a nanosecond or two of
// work: one character comparison of a wildcard match, or one byte of a scan
// over JSON or a string (a lookup outside the single pass over a raw
// message, json(), a string compared or converted). At this budget the worst
// $filter the default limits allow, over a 1 MiB payload, gives up after a
// few milliseconds (BenchmarkWorstFilter), while an expression that reads a
// 1 MiB payload a few times over still fits.
const DefaultMaxSteps = 1 << 22

// scanBytesPerStep is how many bytes of a linear scan one step pays for.
// Measured, a byte of a JSON scan costs about as much as one turn of the
// wildcard loop (0.5 to 3 ns against 1.5 to 5 ns on this project's
// machine), so one.
const scanBytesPerStep = 1

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

// SpendScan takes the steps of a linear scan over n bytes.
func (b *Budget) SpendScan(n int) bool { return b.Spend(1 + n/scanBytesPerStep) }

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
