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
