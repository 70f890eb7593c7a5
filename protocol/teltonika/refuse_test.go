package teltonika

import (
	"bytes"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// The refusal is the byte the session itself answers a rejected IMEI with.
func TestRefusal(t *testing.T) {
	for _, tr := range []protocol.Transport{protocol.TCP, protocol.UDP} {
		s := (&Codec{}).NewSession(tr)
		ref, ok := s.(protocol.Refuser)
		if !ok {
			t.Fatalf("%v session is not a protocol.Refuser", tr)
		}
		var r protocol.Result
		if err := s.Decode(append([]byte{0, 15}, "35630704244101X"...), &r); err != nil && tr == protocol.TCP {
			t.Fatal(err)
		}
		if got := ref.Refusal(); !bytes.Equal(got, []byte{0}) {
			t.Fatalf("%v refusal %x, want 00", tr, got)
		}
		if tr == protocol.TCP && !bytes.Equal(r.Reply, ref.Refusal()) {
			t.Fatalf("rejected IMEI answered %x, refusal is %x", r.Reply, ref.Refusal())
		}
	}
}
