package wialonretranslator

import (
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
