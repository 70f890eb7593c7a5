package filter

// Boolean contexts get a flatter program than Eval: a tree of &&, || and
// not() over other expressions becomes a list of leaf tests with a jump for
// each outcome, as a compiler emits short-circuit code. A leaf that fails
// makes the whole expression an error, which a boolean context reads as
// false, so Match stops at the first failing leaf. The walk is a loop, not
// recursion, and "parameter op constant" leaves are tested inline.

type step struct {
	n      *node // the leaf, in the evaluation tree
	field  *node // n's left operand when n is "field op constant"
	onTrue int32 // next step; stepTrue or stepFalse end the walk
	onFals int32
}

const (
	stepTrue  = -1
	stepFalse = -2
)

// maxSteps bounds the jump list; bigger expressions use the tree walk.
const maxSteps = 256

func leafCount(n *node) int {
	switch {
	case n.op == opAnd || n.op == opOr:
		return leafCount(n.kids[0]) + leafCount(n.kids[1])
	case n.op == opCall && n.fn.id == fnNot:
		return leafCount(n.kids[0])
	}
	return 1
}

func (x *Expr) buildSteps() {
	if c := leafCount(x.prog); c > maxSteps || c < 2 && !isFieldCompare(x.prog) {
		return
	}
	x.steps = x.emit(x.prog, stepTrue, stepFalse, nil)
}

func isFieldCompare(n *node) bool {
	switch n.op {
	case opEq, opNe, opLt, opLe, opGt, opGe:
		return n.kids[0].op == opField && n.kids[1].op == opLit
	}
	return false
}

func (x *Expr) emit(n *node, t, f int32, out []step) []step {
	switch {
	case n.op == opAnd:
		next := int32(len(out) + leafCount(n.kids[0]))
		out = x.emit(n.kids[0], next, f, out)
		return x.emit(n.kids[1], t, f, out)
	case n.op == opOr:
		next := int32(len(out) + leafCount(n.kids[0]))
		out = x.emit(n.kids[0], t, next, out)
		return x.emit(n.kids[1], t, f, out)
	case n.op == opCall && n.fn.id == fnNot:
		return x.emit(n.kids[0], f, t, out)
	}
	s := step{n: n, onTrue: t, onFals: f}
	if isFieldCompare(n) {
		s.field = n.kids[0]
	}
	return append(out, s)
}

// testBudget is test spending b (nil: a fresh budget of the expression's
// own). The budget is copied into the evaluator and back, so that it stays
// inline: a pointer to it would escape with the evaluator's other fields.
func (e *evaluator) testBudget(b *Budget) bool {
	if b == nil {
		e.b = newBudget(e.x.maxSteps)
		return e.test()
	}
	e.b = *b
	r := e.test()
	*b = e.b
	return r
}

// test evaluates the program in a boolean context.
func (e *evaluator) test() bool {
	steps := e.x.steps
	if steps == nil {
		return e.eval(e.x.prog).Truth() && !e.b.over
	}
	i := int32(0)
	for {
		s := &steps[i]
		var r bool
		if s.field != nil {
			var ok bool
			if r, ok = e.testCompare(s.n, s.field); !ok {
				return false
			}
		} else {
			v := e.eval(s.n)
			if v.kind == KindError {
				return false
			}
			r = v.Truth()
		}
		if r {
			i = s.onTrue
		} else {
			i = s.onFals
		}
		if i < 0 {
			return i == stepTrue && !e.b.over
		}
	}
}

// testCompare is "field op constant" inline; ok is false on an error.
func (e *evaluator) testCompare(n, f *node) (r, ok bool) {
	if e.raw && !e.js.nested && int(f.slot) < e.js.n {
		// Read the slot in place: copying a Value costs more than the test.
		if !e.js.filled {
			if !e.fast(len(e.js.data)) {
				return false, false
			}
			e.js.fill()
		}
		if v := &e.js.slots[f.slot]; v.kind != KindError || v.code != errMissing {
			return e.compareTo(n, v)
		}
		if !f.dollar {
			return false, false
		}
		return e.compareTo(n, &Value{})
	}
	v, found := e.field(f)
	if !found {
		if !f.dollar {
			return false, false
		}
		v = Value{}
	}
	return e.compareTo(n, &v)
}

// compareTo is testCompare once the field's value is known.
func (e *evaluator) compareTo(n *node, v *Value) (r, ok bool) {
	c := &n.kids[1].val
	// Numbers and booleans compare as numbers (true is 1), as in compare.
	if (v.kind == KindNumber || v.kind == KindBool) && (c.kind == KindNumber || c.kind == KindBool) {
		a, b := v.num, c.num
		switch n.op {
		case opEq:
			return a == b, true
		case opNe:
			return a != b, true
		case opLt:
			return a < b, true
		case opLe:
			return a <= b, true
		case opGt:
			return a > b, true
		}
		return a >= b, true
	}
	if v.kind == KindString && n.pat != nil && n.patRight {
		m := n.pat.match(v.str, &e.b)
		return m == (n.op == opEq), !e.b.over
	}
	res := e.compare(n, *v, *c)
	if res.kind == KindError {
		return false, false
	}
	return res.num != 0, true
}
