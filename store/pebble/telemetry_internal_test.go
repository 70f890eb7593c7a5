package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// TestTelemetryMigrate: a store written with one key per parameter (the
// layout before device records) opens with the same telemetry, kept from
// then on as device records.
func TestTelemetryMigrate(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(ident, name string, v protocol.Value, ts float64) {
		var one protocol.Message
		one.Set(name, v)
		val := binary.BigEndian.AppendUint64(nil, orderedFloat(ts))
		val = codec.Append(val, &one)
		if err := d.db.Set(legacyTelKey(ident, name), val, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	legacy("A", "position.speed", protocol.Int(10), 100)
	legacy("A", "din#1", protocol.Bool(true), 90)
	legacy("B", "can/x", protocol.String("a"), -5)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 2 { // migrated, then read as device records
		d, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := d.Telemetry().Get(ctx, "A")
		if err != nil || len(a) != 2 || a[0].Name != "din#1" || a[0].Time != 90 || a[1].Name != "position.speed" ||
			a[1].Time != 100 || !a[1].Value.Equal(protocol.Int(10)) {
			t.Fatalf("round %d: A %+v %v", round, a, err)
		}
		b, err := d.Telemetry().Get(ctx, "B")
		if err != nil || len(b) != 1 || b[0].Time != -5 || !b[0].Value.Equal(protocol.String("a")) {
			t.Fatalf("round %d: B %+v %v", round, b, err)
		}
		it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagTel}, UpperBound: []byte{tagTel + 1}})
		if err != nil {
			t.Fatal(err)
		}
		if it.First() {
			t.Fatalf("round %d: a per-parameter key is left: %q", round, it.Key())
		}
		it.Close()
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTelemetryMovedToOwnInstance: a store whose device records are in
// "state" (before telemetry had its own instance) opens with the same
// telemetry, now in "telemetry" only; a move cut short by a crash (the
// records in both) completes at the next open.
func TestTelemetryMovedToOwnInstance(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	record := func(db *pebble.DB, ident string, speed int64, ts float64) {
		var m protocol.Message
		m.Add("position.speed", protocol.Int(speed))
		m.Add("ident", protocol.String(ident))
		if err := db.Set(devicePrefix(nil, tagTelDevice, ident), appendDeviceTelemetry(nil, &m, []float64{ts, ts}), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	record(d.db, "A", 10, 100)
	record(d.db, "B", 20, 200)
	record(d.teldb, "B", 20, 200) // a move that stopped before deleting
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 2 {
		d, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			ident string
			speed int64
			ts    float64
		}{{"A", 10, 100}, {"B", 20, 200}} {
			vals, err := d.Telemetry().Get(ctx, want.ident, "position.speed")
			if err != nil || len(vals) != 1 || vals[0].Time != want.ts || !vals[0].Value.Equal(protocol.Int(want.speed)) {
				t.Fatalf("round %d: %s %+v %v", round, want.ident, vals, err)
			}
		}
		count := func(db *pebble.DB) int {
			it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagTelDevice}, UpperBound: []byte{tagTelDevice + 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			n := 0
			for ok := it.First(); ok; ok = it.Next() {
				n++
			}
			return n
		}
		if n := count(d.db); n != 0 {
			t.Fatalf("round %d: %d device records left in state", round, n)
		}
		if n := count(d.teldb); n != 2 {
			t.Fatalf("round %d: %d device records in telemetry, want 2", round, n)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func deviceTelemetrySample() []byte {
	var m protocol.Message
	m.Add("a", protocol.Int(1))
	m.Add("b", protocol.String("x"))
	m.Add("c", protocol.Float(math.Inf(-1)))
	return appendDeviceTelemetry(nil, &m, []float64{5, -1, 5})
}

// FuzzDeviceTelemetry: a device record never panics or over-allocates when
// decoded, and whatever decodes encodes back to the same bytes.
func FuzzDeviceTelemetry(f *testing.F) {
	f.Add(deviceTelemetrySample())
	f.Add([]byte{0, 1, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 'a', 5, 3, 'x', 'y', 'z'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var dec codec.Decoder
		var m, again protocol.Message
		var times []float64
		err := decodeDeviceTelemetry(&dec, &m, data, func(name string, v protocol.Value, ts float64) {
			again.Add(name, v)
			times = append(times, ts)
		})
		if err != nil {
			return
		}
		// Re-encoded, it decodes to the same parameters and times.
		enc := appendDeviceTelemetry(nil, &again, times)
		var back protocol.Message
		var times2 []float64
		if err := decodeDeviceTelemetry(&dec, &m, enc, func(name string, v protocol.Value, ts float64) {
			back.Add(name, v)
			times2 = append(times2, ts)
		}); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(codec.Append(nil, &back), codec.Append(nil, &again)) || !slices.EqualFunc(times2, times, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Fatalf("re-encoded %s %v, decoded %s %v", back.String(), times2, again.String(), times)
		}
	})
}

// TestDeviceTelemetryManyTimes: a record whose parameters have more
// distinct times than the linear search keeps (the map takes over) keeps
// every time's bits, -0 apart from 0 and NaN too, whether encoded fresh or
// with a timeTable that encoded another record before.
func TestDeviceTelemetryManyTimes(t *testing.T) {
	var m protocol.Message
	var times []float64
	for i := range 40 {
		m.Add("p"+strconv.Itoa(i), protocol.Int(int64(i)))
		switch {
		case i == 20:
			times = append(times, math.Copysign(0, -1))
		case i == 21:
			times = append(times, 0)
		case i == 22 || i == 30:
			times = append(times, math.NaN())
		default:
			times = append(times, float64(i%25)) // repeats after 25
		}
	}
	var tt timeTable
	tt.appendRecord(nil, &m, []float64{1, 2, 3}) // leaves state behind
	for round, rec := range [][]byte{appendDeviceTelemetry(nil, &m, times), tt.appendRecord(nil, &m, times)} {
		var dec codec.Decoder
		var got protocol.Message
		var i int
		err := decodeDeviceTelemetry(&dec, &got, rec, func(name string, v protocol.Value, ts float64) {
			if name != "p"+strconv.Itoa(i) || math.Float64bits(ts) != math.Float64bits(times[i]) {
				t.Errorf("round %d: parameter %d: %s at %v, want p%d at %v", round, i, name, ts, i, times[i])
			}
			i++
		})
		if err != nil || i != len(times) {
			t.Fatalf("round %d: %d parameters, %v", round, i, err)
		}
	}
}

// TestDeviceRecordAsEncoded: the record Update writes, encoded straight
// from the table, is byte for byte appendDeviceTelemetry of the device's
// values (the layout every version reads).
func TestDeviceRecordAsEncoded(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	msgs := make([]protocol.Message, 3)
	storetest.SetTrackerMessage(&msgs[0], "A", 100, 1)
	storetest.SetTrackerMessage(&msgs[1], "A", 90, 2) // older: only news are taken
	msgs[1].Add("can/raw", protocol.RawJSON(`{"x":1}`))
	msgs[1].Add("z", protocol.Null())
	storetest.SetTrackerMessage(&msgs[2], "A", 101, 3)
	msgs[2].Delete("peer")
	if err := d.Telemetry().Update(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	vals, err := d.Telemetry().Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	var m protocol.Message
	var times []float64
	for _, v := range vals {
		m.Add(v.Name, v.Value)
		times = append(times, v.Time)
	}
	got, closer, err := d.teldb.Get(devicePrefix(nil, tagTelDevice, "A"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if want := appendDeviceTelemetry(nil, &m, times); !bytes.Equal(got, want) {
		t.Fatalf("record\n%x\nwant\n%x", got, want)
	}
}
