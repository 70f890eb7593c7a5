package osmand

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// benchQuery is a Traccar Client request's query (the documentation's
// second example).
const benchQuery = "deviceid=12345&lat=48.8566&lon=2.3522&timestamp=1609459200&speed=15&bearing=270&altitude=35&accuracy=10&hdop=0.8&batt=75"

// BenchmarkDecode decodes one query-form position into a reused Result.
func BenchmarkDecode(b *testing.B) {
	c := &Codec{}
	var r protocol.Result
	b.SetBytes(int64(len(benchQuery)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := c.DecodeQuery(benchQuery, &r); err != nil {
			b.Fatal(err)
		}
	}
	if r.Messages[0].Len() != 11 {
		b.Fatal(r.Messages[0].String())
	}
}

// BenchmarkDecodeJSON decodes one Traccar Client 9 JSON location.
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},"activity":{"type":"still"},"extras":{}},"device_id":"48241179"}`)
	c := &Codec{}
	var r protocol.Result
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if err := c.DecodeJSON(body, &r); err != nil {
			b.Fatal(err)
		}
	}
}
