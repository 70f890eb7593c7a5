package wialonretranslator_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

func newCodec(protocoltest.Config) protocol.Codec { return &wialonretranslator.Codec{} }

// TestGolden runs every case in testdata: the document's example, a real
// unit's packet, a packet with every data type, and must-fail vectors.
func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

// FuzzDecode fuzzes framing and decoding, seeded with every case.
func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
