package selector

import (
	"fmt"
	"testing"
)

// devices builds n REST device objects of about 300 bytes each.
func devices(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":%d,"name":"tracker %d","cid":%d,"device_type_id":%d,`+
			`"configuration":{"ident":"35262506600%04d","phone":"+3706%07d","settings_polling":"once"},`+
			`"connected":%v,"last_active":%d,"messages_ttl":31536000,"media_ttl":86400,`+
			`"protocol_id":%d,"metadata":{"fleet_id":%d,"project":"project-%d"},"groups":[{"id":%d}]}`,
			1000+i, i, 100+i%7, 40+i%5, i, i, i%2 == 0, 1700000000+i, 1+i%3, i%20, i%11, i%13)
	}
	return out
}

// BenchmarkSelect10k: a 2-clause selector over 10,000 device objects, one
// op is the whole collection.
func BenchmarkSelect10k(b *testing.B) {
	items := devices(10000)
	sel, err := Parse("configuration.ident=3526250660012*,metadata.fleet_id=3")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		for _, it := range items {
			if sel.Match(it) {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("nothing selected")
	}
}

func BenchmarkSelectExpr10k(b *testing.B) {
	items := devices(10000)
	sel, err := Parse(`{configuration.ident=="3526250660012*" && metadata.fleet_id==3}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, it := range items {
			sel.Match(it)
		}
	}
}

func BenchmarkQuery10k(b *testing.B) {
	items := devices(10000)
	sel, _ := Parse("configuration.ident=3526250660012*,metadata.fleet_id=3")
	f, _ := ParseFields("id,name,configuration.ident")
	q := &Query{Selector: sel, Fields: f, Limit: 100}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = q.AppendApply(buf[:0], items)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`configuration.ident=1234*,metadata.fleet_id=10,{name=="car*" || device_type_id==42}`); err != nil {
			b.Fatal(err)
		}
	}
}
