package filter

import (
	"fmt"
	"testing"
)

// Pinned finds the name == literal comparisons an expression cannot be
// true without, and nothing under ||, !, != or a function.
func TestPinned(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`cid==5`, `[5]`},
		{`5==cid`, `[5]`},
		{`cid=5`, `[5]`}, // a filter's single "="
		{`cid==5 && payload=="x"`, `[5]`},
		{`(cid==5 && x>1) && (y==2 && cid=="5")`, `[5 "5"]`},
		{`cid==5 || cid==6`, `[]`},
		{`not(cid==5)`, `[]`},
		{`cid!=5`, `[]`},
		{`cid>=5 && cid<=5`, `[]`},
		{`cid==other`, `[]`},
		{`cid.x==5`, `[]`},
		{`$cid==7`, `[7]`},
		{`exists("cid") && cid==null`, `[null]`},
	} {
		x, err := CompileFilter(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got := fmt.Sprint(x.Pinned("cid")); got != c.want {
			t.Errorf("Pinned(%q) in %s = %s, want %s", "cid", c.expr, got, c.want)
		}
	}
}
