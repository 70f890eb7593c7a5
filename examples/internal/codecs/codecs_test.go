package codecs

import "testing"

// Every name makes the codec of that name; an unknown one makes none.
func TestNames(t *testing.T) {
	o := Options{Lenient: true, MaxFrameSize: 4096}
	for _, n := range Names() {
		if c, ok := New(n, o); !ok || c == nil || c.Name() != n {
			t.Errorf("New(%q) = %v, %v", n, c, ok)
		}
	}
	for _, n := range HTTPNames() {
		if d, ok := NewHTTP(n, o); !ok || d == nil {
			t.Errorf("NewHTTP(%q) = %v, %v", n, d, ok)
		}
	}
	if c, ok := New("nope", o); ok || c != nil {
		t.Errorf("New(nope) = %v, %v", c, ok)
	}
	if d, ok := NewHTTP("nope", o); ok || d != nil {
		t.Errorf("NewHTTP(nope) = %v, %v", d, ok)
	}
	if len(Names()) < 18 || len(HTTPNames()) != 1 {
		t.Errorf("names %v, HTTP %v", Names(), HTTPNames())
	}
}
