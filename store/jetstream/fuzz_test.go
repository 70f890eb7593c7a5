package jetstream

import (
	"encoding/binary"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Stored telemetry values decode or fail cleanly, never panic, and what
// decodes re-encodes to the same bytes.
func FuzzDecodeValues(f *testing.F) {
	f.Add(encodeValues([]store.TelemetryValue{
		{Name: "position.latitude", Value: protocol.Float(54.7), Time: 1.7e9},
		{Name: "ident", Value: protocol.String("356307042441013"), Time: 1.7e9},
	}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := decodeValues("k", b)
		if err != nil {
			return
		}
		again, err := decodeValues("k", encodeValues(vs))
		if err != nil || len(again) != len(vs) {
			t.Fatalf("re-encoding %v: %v, %d values", vs, err, len(again))
		}
	})
}

// A log message's records are split by their length prefixes without
// reading past the end, whatever the bytes.
func FuzzRecordSizes(f *testing.F) {
	var m protocol.Message
	m.SetString("ident", "d")
	rec := codec.Append(nil, &m)
	good := binary.AppendUvarint(nil, uint64(len(rec)))
	good = append(good, rec...)
	f.Add(good, uint64(1))
	f.Add([]byte{0x80}, uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, count uint64) {
		sizes, err := recordSizes(rawMsg{info: msgInfo{first: 1, count: count}, data: data})
		if err == nil && uint64(len(sizes)) != count {
			t.Fatalf("%d sizes for a count of %d", len(sizes), count)
		}
	})
}
