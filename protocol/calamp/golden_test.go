package calamp

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec { return &Codec{Lenient: c.Lenient} }

// TestGolden runs every case in testdata: every CalAmp capture of the
// shared vectors and the must-fail variants.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes decoding over UDP (and the TCP refusal), strict and
// lenient, seeded with every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
