package filter

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStructMasks checks the (assembly) block masks against the Go
// reference on random bytes rich in the bytes they look for.
func TestStructMasks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`"}{[]ab:,\ ` + "\x00\x1f\x20\x21\t\n\xff\x7b\x5b\x3a")
	buf := make([]byte, maskWindow*64+1)
	for range 300 {
		for i := range buf {
			buf[i] = alphabet[rng.IntN(len(alphabet))]
		}
		for blocks := 1; blocks <= maskWindow; blocks++ {
			var got, want blockMasks
			structMasks(&buf[0], blocks, &got)
			structMasksGeneric(&buf[0], blocks, &want)
			if got != want {
				t.Fatalf("blocks %d: got %x, want %x", blocks, got, want)
			}
			testArchMasks(t, buf, blocks, &want)
		}
	}
}

// TestFillPlainShapes covers the separators and values fillPlain treats
// specially, against the plain iterator.
func TestFillPlainShapes(t *testing.T) {
	names := []string{"a", "b", "c.d", "key.with}brace", "long.key.name.over.eight", ""}
	pad := strings.Repeat("p", 70)
	docs := []string{
		`{"a":1,"b":"x","c.d":true}`,
		`{ "a" : 1 , "b" : "x}" , "c.d" : [1,{"a":2}] }`,
		"{\"x\":\"}\",\n\t\"a\":\n2,\"b\":{\"c.d\":3},\"c.d\":null}",
		`{"key.with}brace":5,"long.key.name.over.eight":"v","a":1}`,
		`{"z":1}` + string(make([]byte, 100)),
		`{"pad":"` + pad + `","a":"tail"}`,
		`{"pad":"` + pad + pad + `","a":"tail","b":2,"long.key.name.over.eight":[1,2],"c.d":{"a":1}}`,
		`{"p1":"` + pad + `","q":1,"r":2,"s":3,"t":4,"u":5,"v":6,"w":7,"x":8,"y":9,"b":[{"a":1}],"a":3}`,
		`{"p1":"` + pad + `","q":1,"r":2,"s":3,"t":4,"u":5,"v":6,"w":7,"x":8,"y":9,"b" :1,"a":3}`,
		`{"p1":"` + pad + `","q":1,"r":2,"s":3,"t":4,"u":5,"v":6,"w":7,"x":8,"y":9,"b":"{","a":3}`,
		`{"":1,"a":2}`,
		`{"p1":"` + pad + `","q":1,"r":"s","a":1,"b":"x\"y","c.d":2}`,
		`{"p1":"` + pad + `","q":1,"r":"s","t":2,"b\u0000":1,"\u0062":"x\\","c.d":"\"","a":3}`,
		`{"p1":"` + pad + `","q":1,"r":"s","t":2,"u":{"v":[1,"\"]}"]},"a":3,"long.key.name.over.eight":4}`,
		`{"a":1`, `{"a":"x`, `{"a"`, `{"a":1 "b":2}`, `{"a":"x" "b":2}`, `{"a":"x",,"b":2}`,
		`{"a":1}"b":2`, `{"b":"x"}"a":1`, `{"a":tr"ue,"b":1}`, `{":1`, `{"`, `{"a":`,
	}
	// Each document also with a long first member, so that short ones take
	// the mask walk too (documents of one block take fill's careful loop).
	n := len(docs)
	for _, doc := range docs[:n] {
		if len(doc) > 1 {
			docs = append(docs, `{"pad0":"`+pad+`",`+doc[1:])
		}
	}
	invalid := 0
	for _, doc := range docs {
		var js jsonSource
		js.data = doc
		js.names = names
		js.n = len(names)
		js.lenMask, js.keys = fieldMasks(names)
		js.fill()
		if !json.Valid([]byte(doc)) {
			invalid++
			continue // only the absence of panics matters
		}
		for i, n := range names {
			raw, ok := lookupFlat(doc, n)
			got := js.slots[i]
			present := !(got.kind == KindError && got.code == errMissing)
			if ok != present || ok && !rawValue(raw).Equal(got) {
				t.Errorf("%q in %q: lookupFlat %v %v, fill %v", n, doc, ok, rawValue(raw), got)
			}
		}
	}
	if invalid != 26 {
		t.Errorf("%d invalid documents, want 26", invalid)
	}
}
