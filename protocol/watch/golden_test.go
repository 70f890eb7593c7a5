package watch

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec { return &Codec{Lenient: c.Lenient} }

// TestGolden runs every case in testdata: every 3G watch capture of the
// shared vectors, the protocol document's examples, and must-fail variants.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes framing and decoding, strict and lenient, seeded with
// every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
