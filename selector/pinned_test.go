package selector

import (
	"fmt"
	"testing"
)

func TestPinned(t *testing.T) {
	for _, c := range []struct{ sel, want string }{
		{`cid=5`, `[5]`},
		{`cid==5,name=x*`, `[5]`},
		{`{cid==5 && name=="x"}`, `[5]`},
		{`{cid=5},cid=6`, `[5 6]`},
		{`cid=abc`, `["abc"]`},
		{`cid!=5`, `[]`},
		{`cid=5*`, `[]`},
		{`{cid==5 || cid==6}`, `[]`},
		{`1,2,all`, `[]`},
		{`meta.cid=5`, `[]`},
	} {
		s, err := Parse(c.sel)
		if err != nil {
			t.Fatalf("%s: %v", c.sel, err)
		}
		if got := fmt.Sprint(s.Pinned("cid")); got != c.want {
			t.Errorf("Pinned(cid) of %s = %s, want %s", c.sel, got, c.want)
		}
	}
}
