package filter

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestStructMasks checks the (assembly) block masks against the Go
// reference on random bytes rich in '"' and '}'.
func TestStructMasks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`"}{ab:,\ ` + "\x00\xff")
	buf := make([]byte, maskWindow*64)
	for range 200 {
		for i := range buf {
			buf[i] = alphabet[rng.IntN(len(alphabet))]
		}
		for blocks := 1; blocks <= maskWindow; blocks++ {
			var got, want [maskWindow]uint64
			structMasks(&buf[0], blocks, &got)
			structMasksGeneric(&buf[0], blocks, &want)
			if got != want {
				t.Fatalf("blocks %d: got %x, want %x", blocks, got, want)
			}
		}
	}
}

// TestFillPlainShapes covers the separators and values fillPlain treats
// specially, against the plain iterator.
func TestFillPlainShapes(t *testing.T) {
	names := []string{"a", "b", "c.d", "key.with}brace", "long.key.name.over.eight"}
	docs := []string{
		`{"a":1,"b":"x","c.d":true}`,
		`{ "a" : 1 , "b" : "x}" , "c.d" : [1,{"a":2}] }`,
		"{\"x\":\"}\",\n\t\"a\":\n2,\"b\":{\"c.d\":3},\"c.d\":null}",
		`{"key.with}brace":5,"long.key.name.over.eight":"v","a":1}`,
		`{"z":1}` + string(make([]byte, 100)),
		`{"pad":"` + string(make([]byte, 70)) + `","a":"tail"}`,
		`{"a":1`, `{"a":"x`, `{"a"`, `{"a":1 "b":2}`, `{"a":"x" "b":2}`, `{"a":"x",,"b":2}`,
		`{"a":1}"b":2`, `{"b":"x"}"a":1`, `{"a":tr"ue,"b":1}`,
	}
	for _, doc := range docs {
		var js jsonSource
		js.data = doc
		js.names = names
		js.n = len(names)
		js.lenMask, js.keyMask = fieldMasks(names)
		js.fill()
		for i, n := range names {
			raw, ok := lookupFlat(doc, n)
			got := js.slots[i]
			present := !(got.kind == KindError && got.code == errMissing)
			valid := json.Valid([]byte(doc))
			if !valid {
				continue // only the absence of panics matters
			}
			if ok != present || ok && !rawValue(raw).Equal(got) {
				t.Errorf("%q in %q: lookupFlat %v %v, fill %v", n, doc, ok, rawValue(raw), got)
			}
		}
	}
}
