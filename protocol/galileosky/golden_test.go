package galileosky

import (
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// fixedNow dates compressed packets in tests.
func fixedNow() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) }

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient, Now: fixedNow}
}

// TestGolden runs every case in testdata: documented examples and real
// captures.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes framing and decoding over TCP and UDP, strict and
// lenient, seeded with every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
