package wialonips_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// The refusal is what the session answers a login it rejects.
func TestRefusal(t *testing.T) {
	s := (&wialonips.Codec{}).NewSession(protocol.TCP)
	ref, ok := s.(protocol.Refuser)
	if !ok {
		t.Fatal("session is not a protocol.Refuser")
	}
	var r protocol.Result
	if err := s.Decode([]byte("#L#86/00;NA"), &r); err != nil {
		t.Fatal(err)
	}
	if got := string(ref.Refusal()); got != "#AL#0\r\n" || string(r.Reply) != got || !r.Close {
		t.Fatalf("refusal %q; rejected login answered %q, close %v", got, r.Reply, r.Close)
	}
}
