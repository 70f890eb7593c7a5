package protocol

import "testing"

func TestAppendGSMCell(t *testing.T) {
	// From nothing, and after an opening '[' a caller wrote itself: the
	// same array.
	for _, js := range [][]byte{nil, []byte("[")} {
		js = AppendGSMCell(js, 250, 1, 7012, 10342, 0, false)
		js = AppendGSMCell(js, 250, 1, 7013, 20011, -71, true)
		want := `[{"mcc":250,"mnc":1,"lac":7012,"cellid":10342},{"mcc":250,"mnc":1,"lac":7013,"cellid":20011,"rssi":-71}]`
		if got := string(append(js, ']')); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if _, err := ParseValueJSON(append(js, ']')); err != nil {
			t.Error(err)
		}
	}
}

func TestNewMessageFor(t *testing.T) {
	var r Result
	m := r.NewMessageFor("356307042441013", 40)
	if v, ok := m.Lookup(ParamIdent); !ok || v.String() != `"356307042441013"` || m.Len() != 1 || cap(m.params) < 40 {
		t.Fatalf("%s (cap %d)", m.String(), cap(m.params))
	}
	m = r.NewMessageFor("", 0)
	if m.Len() != 0 || len(r.Messages) != 2 {
		t.Fatalf("unknown device: %s, %d messages", m.String(), len(r.Messages))
	}
}
