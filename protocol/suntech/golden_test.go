package suntech

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec { return &Codec{Lenient: c.Lenient} }

// TestGolden runs every case in testdata: every Suntech capture of the
// shared vectors, documents' examples with the values they state, and
// must-fail variants.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes framing and decoding over TCP and UDP, strict and
// lenient, seeded with every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
