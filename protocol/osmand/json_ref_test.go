package osmand

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/tidwall/gjson"
)

// refDecodeJSON is the gjson-based decoder the one-pass DecodeJSON replaced,
// kept as the reference it must agree with. It decodes the JSON body of Traccar Client 8+ (the
// background-geolocation form): {"device_id": …, "location": {…}} or a
// batch with "location": [{…}, …], one message per location.
func (c *Codec) refDecodeJSON(body []byte, r *protocol.Result) error {
	if !gjson.ValidBytes(body) {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "body is not JSON")
	}
	var id, loc gjson.Result
	gjson.ParseBytes(body).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "device_id":
			id = v
		case "location":
			loc = v
		}
		return true
	})
	if id.Type != gjson.String && id.Type != gjson.Number {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "no device_id")
	}
	ident := id.String()
	if !validIdent(ident) {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "device_id is not a device identifier")
	}
	var err error
	switch {
	case loc.IsArray():
		loc.ForEach(func(_, l gjson.Result) bool {
			err = c.refJSONLocation(ident, l, r)
			return err == nil
		})
	case loc.IsObject():
		err = c.refJSONLocation(ident, loc, r)
	default:
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "no location object")
	}
	if err != nil {
		return err
	}
	r.Ident = ident
	return nil
}

// refJSONNames are the parameters a JSON location gives, in message order;
// their slots are reserved and the empty ones dropped.
var refJSONNames = [...]string{protocol.ParamIdent, protocol.ParamTimestamp, protocol.ParamLatitude,
	protocol.ParamLongitude, protocol.ParamValid, protocol.ParamSpeed, protocol.ParamDirection,
	protocol.ParamAltitude, paramAccuracy, paramMoving, paramOdometer, paramBatteryLevel, paramCharging,
	paramEvent, paramActivity, paramMock, paramAlarm, paramSOS}

// jsonLocation reads one location object in one pass over its keys
// (and one over coords, battery and activity).
func (c *Codec) refJSONLocation(ident string, l gjson.Result, r *protocol.Result) error {
	if !l.IsObject() {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "a location is not an object")
	}
	m := r.NewMessage()
	m.Grow(24)
	for _, name := range refJSONNames {
		m.Add(name, protocol.Null())
	}
	m.Set(protocol.ParamIdent, protocol.String(ident))
	var extras, alarm gjson.Result
	var err error
	l.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "timestamp":
			t, ok := parseTime(v.String())
			if !ok && !c.Lenient {
				err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "location timestamp is not an ISO 8601 time")
				return false
			}
			if ok {
				m.Set(protocol.ParamTimestamp, t)
			}
		case "coords":
			err = c.refCoords(m, v)
		case "is_moving":
			if v.IsBool() {
				m.Set(paramMoving, protocol.Bool(v.Bool()))
			}
		case "odometer":
			if v.Type == gjson.Number && v.Num >= 0 {
				m.Set(paramOdometer, protocol.Float(v.Num/1000)) // m
			}
		case "battery":
			v.ForEach(func(k, v gjson.Result) bool {
				switch {
				case k.Str == "level" && v.Type == gjson.Number && v.Num >= 0:
					m.Set(paramBatteryLevel, protocol.Float(math.Round(v.Num*1000)/10)) // 0–1
				case k.Str == "is_charging" && v.IsBool():
					m.Set(paramCharging, protocol.Bool(v.Bool()))
				}
				return true
			})
		case "event":
			if v.Type == gjson.String {
				m.Set(paramEvent, protocol.String(strings.ToValidUTF8(v.Str, "\uFFFD")))
			}
		case "activity":
			if t := v.Get("type"); t.Type == gjson.String {
				m.Set(paramActivity, protocol.String(strings.ToValidUTF8(t.Str, "\uFFFD")))
			}
		case "mock":
			if v.IsBool() {
				m.Set(paramMock, protocol.Bool(v.Bool()))
			}
		case "alarm":
			alarm = v
			if v.Type == gjson.String {
				m.Set(paramAlarm, protocol.String(strings.ToValidUTF8(v.Str, "\uFFFD")))
				if strings.EqualFold(v.Str, "sos") {
					m.Set(paramSOS, protocol.Bool(true))
				}
			}
		case "extras":
			extras = v
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	m.Retain(func(p *protocol.Param) bool { return !p.Value.IsNull() })
	extras.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		if key == "alarm" && alarm.Exists() || !validKey(key) {
			return true
		}
		name := "custom." + key
		if m.Has(name) {
			return true
		}
		switch v.Type {
		case gjson.Number:
			if i, e := strconv.ParseInt(v.Raw, 10, 64); e == nil {
				m.Add(name, protocol.Int(i))
			} else {
				m.Add(name, protocol.Float(v.Num))
			}
		case gjson.True, gjson.False:
			m.Add(name, protocol.Bool(v.Bool()))
		case gjson.String:
			m.Add(name, protocol.String(strings.ToValidUTF8(v.Str, "\uFFFD")))
		case gjson.JSON:
			m.Add(name, protocol.RawJSON(compactJSON(v.Raw)))
		}
		return true
	})
	return nil
}

// coords reads latitude, longitude, accuracy (m), speed (m/s; negative:
// unknown), heading (degrees; negative: unknown) and altitude (m).
func (c *Codec) refCoords(m *protocol.Message, co gjson.Result) error {
	if !co.IsObject() {
		return nil
	}
	var lat, lon gjson.Result
	co.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.Number {
			if k.Str == "latitude" || k.Str == "longitude" {
				lat = gjson.Result{} // not a number: refused below
			}
			return true
		}
		switch k.Str {
		case "latitude":
			lat = v
		case "longitude":
			lon = v
		case "speed":
			if v.Num >= 0 {
				m.Set(protocol.ParamSpeed, protocol.Float(v.Num*3.6))
			}
		case "heading":
			if v.Num >= 0 && v.Num <= 360 {
				m.Set(protocol.ParamDirection, protocol.Float(v.Num))
			}
		case "altitude":
			m.Set(protocol.ParamAltitude, protocol.Float(v.Num))
		case "accuracy":
			if v.Num >= 0 {
				m.Set(paramAccuracy, protocol.Float(v.Num))
			}
		}
		return true
	})
	if lat.Type != gjson.Number || lon.Type != gjson.Number || lat.Num < -90 || lat.Num > 90 || lon.Num < -180 || lon.Num > 180 {
		if c.Lenient {
			return nil
		}
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "coords without a latitude and longitude")
	}
	m.Set(protocol.ParamLatitude, protocol.Float(lat.Num))
	m.Set(protocol.ParamLongitude, protocol.Float(lon.Num))
	m.Set(protocol.ParamValid, protocol.Bool(true))
	return nil
}

// FuzzJSONReference checks the one-pass DecodeJSON against the gjson
// decoder it replaced: the same refusals (by error text) and, when both
// accept, the same messages and ident, strict and lenient.
func FuzzJSONReference(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, c := range []*Codec{{}, {Lenient: true}} {
			var got, want protocol.Result
			errGot := c.DecodeJSON(body, &got)
			errWant := c.refDecodeJSON(body, &want)
			if (errGot == nil) != (errWant == nil) || errGot != nil && errGot.Error() != errWant.Error() {
				t.Fatalf("lenient=%v %q:\n got error %v\nwant error %v", c.Lenient, body, errGot, errWant)
			}
			if errGot != nil {
				if len(got.Messages) != 0 {
					t.Fatalf("lenient=%v %q: error %v with %d messages", c.Lenient, body, errGot, len(got.Messages))
				}
				continue
			}
			g, w := protocoltest.FormatMessages(got.Messages), protocoltest.FormatMessages(want.Messages)
			if string(g) != string(w) || got.Ident != want.Ident {
				t.Fatalf("lenient=%v %q:\n got %s (%q)\nwant %s (%q)", c.Lenient, body, g, got.Ident, w, want.Ident)
			}
		}
	})
}

// jsonSeeds are bodies for FuzzJSONReference: the Traccar Client forms and
// the corners where a one-pass reader could part from gjson (repeated
// keys, a location before device_id, escapes, numbers in every form,
// extras of every kind, errors after a first good location).
var jsonSeeds = []string{
	`{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},"activity":{"type":"still"},"extras":{}},"device_id":"48241179"}`,
	`{"device_id":"a","location":[{"timestamp":"2025-06-15T13:45:12Z","coords":{"latitude":1,"longitude":2}},{"timestamp":1749995112,"coords":{"latitude":-1.5e1,"longitude":2E+1,"speed":-1}}]}`,
	`{"device_id":12.50,"location":{"coords":{"latitude":1,"longitude":2}}}`,
	`{"device_id":1e3,"location":{"coords":{"latitude":1,"longitude":2}}}`,
	`{"device_id":"x","location":{"coords":{"latitude":"1","longitude":2}}}`,
	`{"device_id":"x","location":{"coords":{"latitude":1,"longitude":2,"latitude":null}}}`,
	`{"device_id":"x","location":{"coords":{"latitude":1,"longitude":2}},"location":{"coords":{"latitude":3,"longitude":4}}}`,
	`{"device_id":"x","location":{"timestamp":"nope"},"location":{"coords":{"latitude":3,"longitude":4}}}`,
	`{"device_id":"x","location":[{"coords":{"latitude":3,"longitude":4}},7,{"coords":{}}]}`,
	`{"device_id":"x","location":[]}`,
	`{"device_id":"x","location":"here"}`,
	`{"device_id":"x"}`,
	`{"location":{}}`,
	`{"device_id":"x","device_id":"y","location":{}}`,
	`{"device_id":"a\u00e9\"b","location":{"event":"e\nv","activity":{"type":"walk","type":"run"},"alarm":"SOS","extras":{"alarm":1,"n":12,"f":1.5,"big":123456789012345678901,"b":true,"s":"t\u0041","o":{"a": [1, 2]},"z":null,"bad key":1,"":2}}}`,
	`{"device_id":"x","location":{"extras":[1,"two",{"three":3}],"extras":{"k":1}}}`,
	`{"device_id":"x","location":{"extras":"flat","battery":[1,2],"activity":"still","coords":[1,2],"mock":true,"is_moving":1}}`,
	`{"device_id":"x","location":{"timestamp":{"a":1},"coords":{"latitude":91,"longitude":0}}}`,
	`{"device_id":"x","location":{"timestamp":true}}`,
	`{"device_id":"x","location":{"timestamp":"2025-06-15 13:45:12","battery":{"level":0.123456,"is_charging":true,"level":-1}}}`,
	` { "device_id" : "x" , "location" : { } } `,
	`{"device_id":"x","location":{},}`,
	`{"device_id":"x","location":{}} x`,
	`{"device_id":"x","location":[1,]}`,
	`{"device_id":"x","location":{"a":01}}`,
	`{"device_id":"x","location":{"a":-}}`,
	`{"device_id":"x","location":{"a":"\x"}}`,
	`{"device_id":"x","location":{"a":"\u12"}}`,
	`{"device_id":"x","location":{"a":tru}}`,
	`[{"device_id":"x"}]`,
	`"x"`,
	``,
	`{"dev\u0069ce_id":"x","location":{"coords":{"latitude":0,"longitude":-0}}}`,
	`{"device_id":"x","location":{"coords":{"latitude":1,"longitude":2,"heading":361,"altitude":-5,"accuracy":-1,"speed":1e400}}}`,
	`{"device_id":"x","location":{"odometer":-1,"odometer":1500.5}}`,
}
