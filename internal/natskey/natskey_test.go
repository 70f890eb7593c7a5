package natskey

import "testing"

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "_", "356307042441013", "a.b", "obj", "x y/z*>", "ident=7", "\x00\xff", "Ünï"} {
		tok := Token(s)
		for i := 0; i < len(tok); i++ {
			if !plain(tok[i]) && tok[i] != '_' {
				t.Fatalf("Token(%q) = %q holds %q", s, tok, tok[i])
			}
		}
		back, err := Parse(tok)
		if err != nil || back != s {
			t.Fatalf("Parse(Token(%q)) = %q, %v", s, back, err)
		}
	}
	for _, bad := range []string{"", "a_", "a_4", "a_zz", "a.b"} {
		if _, err := Parse(bad); err == nil {
			t.Fatalf("Parse(%q) accepted", bad)
		}
	}
	for _, p := range []string{"obj/devices/00000000000000000001", "idx/devices/ident=a.b", "seq", "a//b/"} {
		k := Path(p)
		back, err := ParsePath(k)
		if err != nil || back != p {
			t.Fatalf("ParsePath(Path(%q)=%q) = %q, %v", p, k, back, err)
		}
	}
	if Path("obj/devices/7") != "obj.devices.7" {
		t.Fatal(Path("obj/devices/7"))
	}
}

func FuzzParse(f *testing.F) {
	f.Add("a_2E_5Fb")
	f.Fuzz(func(t *testing.T, tok string) {
		s, err := Parse(tok)
		if err == nil {
			if _, err := Parse(Token(s)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
