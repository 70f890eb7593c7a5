package selector

import (
	"testing"
)

// FuzzParse checks that no selector panics the parser or Match, and that
// the canonical form is a fixed point that selects the same items.
func FuzzParse(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Input)
	}
	for _, s := range []string{"1,2,{a/2==1}", `name="a,b",x!=*y?`, "{json(groups,0)['id']=1}", "all,all", "a.b.c==", `x='"'`} {
		f.Add(s)
	}
	item := []byte(`{"id":1,"name":"a,b","a":2,"x":"zy","groups":[{"id":1}],"configuration":{"ident":"1234"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		sel, err := Parse(in)
		if err != nil {
			return
		}
		canon := sel.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("%q -> %q: %v", in, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("%q -> %q -> %q", in, canon, again.String())
		}
		if sel.Match(item) != again.Match(item) {
			t.Fatalf("%q and %q disagree", in, canon)
		}
	})
}

// FuzzSplitPath checks SplitPath never panics and never loses a byte
// outside percent-encoding.
func FuzzSplitPath(f *testing.F) {
	f.Add("/gw/devices/%7Ba%2F2%3D%3D1%7D/x")
	f.Add(`/gw/devices/{name=="a/}b"}/x`)
	f.Fuzz(func(t *testing.T, in string) {
		segs, err := SplitPath(in)
		if err == nil && len(segs) == 0 {
			t.Fatalf("%q: no segments", in)
		}
	})
}
