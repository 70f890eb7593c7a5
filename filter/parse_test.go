package filter

import (
	"errors"
	"strings"
	"testing"
)

// cPrecedence is C's binary operator precedence (K&R §2.12), higher binds
// tighter; written out here independently of the parser's table.
var cPrecedence = map[string]int{
	"*": 13, "/": 13, "%": 13,
	"+": 12, "-": 12,
	"<<": 11, ">>": 11,
	"<": 10, "<=": 10, ">": 10, ">=": 10,
	"==": 9, "!=": 9,
	"&":  8,
	"^":  7,
	"|":  6,
	"&&": 5,
	"||": 4,
}

// paren prints a tree with every operation in parentheses.
func paren(n *node) string {
	switch n.op {
	case opLit:
		return string(appendLiteral(nil, n.val))
	case opField:
		return n.name
	case opNeg, opBitNot:
		return "(" + opText[n.op] + paren(n.kids[0]) + ")"
	case opIndex:
		return "(" + paren(n.kids[0]) + "[" + paren(n.kids[1]) + "])"
	case opCall:
		var args []string
		for _, k := range n.kids {
			args = append(args, paren(k))
		}
		return n.name + "(" + strings.Join(args, ",") + ")"
	}
	return "(" + paren(n.kids[0]) + " " + opText[n.op] + " " + paren(n.kids[1]) + ")"
}

// TestPrecedencePairs checks every ordered pair of binary operators: the
// tree's shape, and that evaluation agrees with explicit parentheses.
func TestPrecedencePairs(t *testing.T) {
	env := MapSource{"a": Number(6), "b": Number(3), "c": Number(2)}
	for op1, p1 := range cPrecedence {
		for op2, p2 := range cPrecedence {
			src := "a " + op1 + " b " + op2 + " c"
			want := "((a " + op1 + " b) " + op2 + " c)"
			if p2 > p1 {
				want = "(a " + op1 + " (b " + op2 + " c))"
			}
			n, err := parse(src, false, Limits{}, nil)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if got := paren(n); got != want {
				t.Errorf("%s parsed as %s, want %s", src, got, want)
				continue
			}
			x, y := MustCompile(src), MustCompile(want)
			if vx, vy := x.Eval(env, nil), y.Eval(env, nil); !vx.Equal(vy) {
				t.Errorf("%s = %v, %s = %v", src, vx, want, vy)
			}
			// The canonical form keeps the meaning.
			if z := MustCompile(x.String()); paren(z.ast) != want {
				t.Errorf("%s printed as %s, which parses as %s", src, x, paren(z.ast))
			}
		}
	}
}

func TestUnaryAndPostfix(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"-a * b", "((-a) * b)"},
		{"- -a", "(-(-a))"},
		{"~a & b", "((~a) & b)"},
		{"-a[0]", "(-(a[0]))"},
		{"a[0][1]", "((a[0])[1])"},
		{"+a - b", "(a - b)"},
		{"not(a) || b", "(not(a) || b)"},
		{"if(a, b, c) + 1", "(if(a,b,c) + 1)"},
		{"a - b - c", "((a - b) - c)"},
		{"a - (b - c)", "(a - (b - c))"},
		{"a / b * c", "((a / b) * c)"},
		{"true && true || false && false", "((true && true) || (false && false))"},
		{"a + b ^ c", "((a + b) ^ c)"},
		{"a | b ^ c & d", "(a | (b ^ (c & d)))"},
	} {
		n, err := parse(c.in, false, Limits{}, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := paren(n); got != c.want {
			t.Errorf("%s parsed as %s, want %s", c.in, got, c.want)
		}
	}
	// govaluate's old bug (Knetic/govaluate #44): && must bind tighter than ||.
	if v := MustCompile("true && true || false && false").Eval(nil, nil); !v.Truth() {
		t.Errorf("true && true || false && false = %v", v)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		in, contains string
		sentinel     error
	}{
		{"1 +", "unexpected end of input (1:4)", ErrSyntax},
		{"(1", "want ')' (1:3)", ErrSyntax},
		{"a b", "unexpected name 'b' (1:3)", ErrSyntax},
		{"speed > (1 + 2))", "unexpected ')' (1:16)", ErrSyntax},
		{`"abc`, "unterminated string (1:1)", ErrSyntax},
		{`'a\qb'`, `unknown escape '\q'`, ErrSyntax},
		{"foo(1)", "unknown function 'foo' (1:1)", ErrUnknownFunction},
		{"abs()", "abs() takes 1 argument, got 0", ErrArgCount},
		{"if(1, 2)", "if() takes 3 arguments, got 2", ErrArgCount},
		{"a = 1", "unexpected '=' (use '==') (1:3)", ErrSyntax},
		{"!a", "use not(x)", ErrSyntax},
		{"$", "'$' must be followed by a parameter name", ErrSyntax},
		{"$1", "'$' must be followed by a parameter name", ErrSyntax},
		{"1a", "bad number (1:1)", ErrSyntax},
		{"0x", "bad hex number", ErrSyntax},
		{"a..b", "bad parameter name 'a..b'", ErrSyntax},
		{"a.", "bad parameter name 'a.'", ErrSyntax},
		{"a &&\n  )", "unexpected ')' (2:3)", ErrSyntax},
		{"a\x00", `unexpected character '\x00'`, ErrSyntax},
		{"email=123@gmail.com", "unexpected '@'", ErrSyntax},
		{"param1!=", "unexpected end of input", ErrSyntax},
		{"", "unexpected end of input (1:1)", ErrSyntax},
		{"f(", "unexpected end of input", ErrSyntax},
		{"a[1", "want ']'", ErrSyntax},
		{"1 ? 2 : 3", "unexpected '?'", ErrSyntax},
		{strings.Repeat("(", 65) + "1" + strings.Repeat(")", 65), "nested deeper than 64", ErrLimit},
		{strings.Repeat("-", 100) + "1", "nested deeper than 64", ErrLimit},
		{strings.Repeat("1+", 1000) + "1", "more than 1000 nodes", ErrLimit},
		{`"` + strings.Repeat("x", 1025) + `"`, "string longer than 1024 bytes", ErrLimit},
		{strings.Repeat(" ", 64<<10+1), "longer than 65536 bytes", ErrLimit},
	} {
		loose := strings.HasPrefix(c.in, "email")
		_, err := (&Config{LooseEquals: loose}).Compile(c.in)
		if err == nil {
			t.Errorf("%.40q compiled", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%.40q: error %q does not contain %q", c.in, err, c.contains)
		}
		if !errors.Is(err, c.sentinel) {
			t.Errorf("%.40q: error %v is not %v", c.in, err, c.sentinel)
		}
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(se.Snippet(), "^") {
			t.Errorf("%.40q: no caret snippet in %#v", c.in, err)
		}
	}
}

func TestHostileNestingIsCheap(t *testing.T) {
	// expr-lang/expr overflows its stack on a million parentheses; we stop
	// at the depth limit after reading 65 of them.
	in := strings.Repeat("(", 1<<20)
	_, err := (&Config{Limits: Limits{MaxSize: 4 << 20}}).Compile(in)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v, want ErrLimit", err)
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	for _, in := range []string{
		`device.name == "12*45"`,
		`(hdop < 1 && (din & 0x1)) || speed == 0`,
		`if(altitude > -500 && altitude < 500, altitude, error())`,
		`a - (b - c) * -d / (e % 2)`,
		`'it''s' == "a\"b\\c\n"`,
		`1e21 + 1.5e-7 + 0.1 + 123456789012345678 + 1e999`,
		`json('key.s', key.p)[0]`,
		`- -x + ~~y`,
		`(a || b) && (c || d)`,
		`a == (b == c)`,
		`$a.b.c#2 >= 0x10`,
	} {
		x, err := Compile(in)
		if err != nil {
			if strings.Contains(in, "it''s") {
				continue // two adjacent strings are not an expression
			}
			t.Fatalf("%s: %v", in, err)
		}
		y, err := Compile(x.String())
		if err != nil {
			t.Fatalf("%s -> %s: %v", in, x, err)
		}
		if paren(x.ast) != paren(y.ast) || x.String() != y.String() {
			t.Errorf("%s -> %s -> %s", in, x, y)
		}
	}
	if got := MustCompile(`(hdop < 1 && (din & 0x1)) || speed == 0`).String(); got != `hdop < 1 && din & 1 || speed == 0` {
		t.Errorf("canonical form %s", got)
	}
	if x, err := CompileFilter(`a=1`); err != nil || x.String() != "a == 1" {
		t.Errorf("loose '=': %v %v", x, err)
	}
}
