package wialonretranslator

import (
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// catalogueKind is LookupParam with maps: they must agree.
func TestCatalogueKindAgreesWithLookupParam(t *testing.T) {
	names := []string{"ident", "din", "din#3", "din#03", "din#", "ain#12", "x#1", "dout#7",
		"custom.param.239", "custom.param.", "custom.param.x", "position.valid", "peer",
		"timezone", "nothing", "custom.foo", "engine.ignition.status", "#1", "ain#N"}
	for _, p := range protocol.Catalogue() {
		names = append(names, p.Name)
	}
	for _, n := range names {
		info, ok := protocol.LookupParam(n)
		k, ok2 := catalogueKind(n)
		if ok != ok2 || (ok && info.Type != k) {
			t.Errorf("%q: LookupParam %v %v, catalogueKind %v %v", n, info.Type, ok, k, ok2)
		}
	}
}

// The switches of byBlock and byParam name every row of the table.
func TestTableLookups(t *testing.T) {
	for i := range table {
		if byBlock(table[i].block) != &table[i] || byBlock([]byte(table[i].block)) != &table[i] || byParam(table[i].param) != &table[i] {
			t.Errorf("row %d (%s ↔ %s) not found by its names", i, table[i].block, table[i].param)
		}
	}
	if byBlock("nope") != nil || byParam("nope") != nil {
		t.Error("an unknown name found a row")
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"", true}, {"abc", true}, {"external.powersource.voltage", true}, {"with space ok", true},
		{"tab\there", false}, {"longer name with a DEL\x7f in it", false}, {"\x00", false},
		{"twenty-four bytes long\x1f", false}, {"héllo wörld, longer than 8", true},
		{"bad utf-8 \xff\xfe after eight", false}, {"12345678\n", false}, {"1234567\x7f", false},
	} {
		if got := printableString(c.s); got != c.want {
			t.Errorf("printableString(%q) = %v", c.s, got)
		}
		if got := printable([]byte(c.s)); got != c.want {
			t.Errorf("printable([]byte(%q)) = %v", c.s, got)
		}
	}
}

// A session caches the names and idents it has seen, up to a bound; past
// it, it still decodes, allocating.
func TestSessionCacheIsBounded(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	for i := 0; i < maxCached+200; i++ {
		var m protocol.Message
		m.SetString(protocol.ParamIdent, fmt.Sprintf("unit-%d", i))
		m.SetInt(protocol.ParamTimestamp, 1_700_000_000)
		m.SetInt(fmt.Sprintf("p%d", i), int64(i))
		pkt, err := Append(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		r.Reset()
		if err := s.Decode(pkt, &r); err != nil {
			t.Fatal(err)
		}
		if v, _ := r.Messages[0].Int(fmt.Sprintf("custom.p%d", i)); v != int64(i) || r.Ident != fmt.Sprintf("unit-%d", i) {
			t.Fatalf("packet %d decoded as %s", i, r.Messages[0].String())
		}
	}
	if len(s.names) > maxCached || len(s.idents) > maxCached {
		t.Fatalf("cache grew to %d names, %d idents", len(s.names), len(s.idents))
	}
}
