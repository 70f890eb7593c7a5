package arnavi

import (
	"time"

	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient, Now: fixedNow}
}

// TestGolden runs every case in testdata: real captures from Traccar's
// tests, documented examples, must-fail vectors.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes framing and decoding over TCP and UDP, strict and
// lenient, seeded with every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }

var fixedNow = func() time.Time { return time.Date(2026, 11, 22, 10, 15, 4, 0, time.UTC) }
