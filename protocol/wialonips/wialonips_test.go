package wialonips_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

func newCodec(c protocoltest.Config) protocol.Codec {
	return &wialonips.Codec{Lenient: c.Lenient}
}

func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
