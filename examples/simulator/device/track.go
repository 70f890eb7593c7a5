package device

import (
	"math"
	"math/rand/v2"
	"time"
)

// Point is a tracker's state at one moment: one record.
type Point struct {
	Time       time.Time
	Latitude   float64 // degrees, north positive
	Longitude  float64 // degrees, east positive
	Altitude   float64 // metres
	Speed      float64 // km/h
	Heading    float64 // degrees clockwise from north, [0, 360)
	Satellites int
	HDOP, PDOP float64
	Ignition   bool
	// IgnitionChanged is set on the first point [Track.At] returns after
	// the ignition was switched on or off: the record a tracker makes
	// because of the event.
	IgnitionChanged bool
	Moving          bool
	ExternalVoltage float64 // V: the vehicle's power
	BatteryVoltage  float64 // V: the tracker's own battery
	GSMLevel        int     // 0 (none) to 5 (excellent)
	Odometer        float64 // metres driven since the track began
}

// Area is where a fleet drives. The zero Area is a 15 km radius round
// Vilnius.
type Area struct {
	// Latitude and Longitude are the centre; both 0 means 54.6872,
	// 25.2797.
	Latitude, Longitude float64
	// Radius in km bounds the vehicles' homes and routes; 0 means 15.
	Radius float64
}

func (a Area) withDefaults() Area {
	if a.Latitude == 0 && a.Longitude == 0 {
		a.Latitude, a.Longitude = 54.6872, 25.2797
	}
	if a.Radius <= 0 {
		a.Radius = 15
	}
	return a
}

// Driving constants, in SI units.
const (
	accel      = 1.5 // m/s² when speeding up
	brake      = 2.5 // m/s² when slowing down
	turnSpeed  = 5.5 // m/s (~20 km/h) at a waypoint
	creepSpeed = 1.0 // m/s: the last metres before a stop
	metresLat  = 110540.0
	metresLon  = 111320.0 // at the equator; times cos(latitude)
	stepLength = time.Second
)

type mode uint8

const (
	driving mode = iota
	halted       // stopped with the engine running (a junction, traffic)
	parked       // ignition off
)

// Track is one vehicle driving a closed route. It is deterministic: the
// same seed and device number give the same route and the same state at
// the same time since Start. Not safe for concurrent use.
type Track struct {
	start time.Time
	rng   *rand.Rand
	route []latLon

	// State after step seconds since start.
	step      int64
	pos       latLon
	speed     float64 // m/s
	heading   float64
	next      int // the waypoint driven to
	cruise    float64
	stopAhead mode // what the vehicle does at the next waypoint
	braking   bool // slowing for the next waypoint
	mode      mode
	left      int // seconds left halted or parked
	ignition  bool
	ignSeen   bool // the last ignition change was reported by At
	sats      int
	gsm       int
	ext, batt float64
	odo       float64
}

type latLon struct{ lat, lon float64 }

// NewTrack makes the track of device n of a fleet, its time counted from
// start. Devices of one seed get different routes in the same area.
func NewTrack(seed uint64, n int, area Area, start time.Time) *Track {
	area = area.withDefaults()
	t := &Track{start: start, rng: rand.New(rand.NewPCG(seed, uint64(n)))}
	r := t.rng
	// A home somewhere in the area, and a loop of 5 to 10 waypoints round
	// it, like the daily round of a delivery van.
	home := offset(latLon{area.Latitude, area.Longitude}, area.Radius*1000*0.6*math.Sqrt(r.Float64()), r.Float64()*2*math.Pi)
	size := (1 + r.Float64()*(area.Radius*0.5-1)) * 1000
	if area.Radius < 3 {
		size = area.Radius * 1000 / 2
	}
	k := 5 + r.IntN(6)
	for i := range k {
		angle := (float64(i) + r.Float64()*0.8) / float64(k) * 2 * math.Pi
		t.route = append(t.route, offset(home, size*(0.3+0.7*r.Float64()), angle))
	}
	// Somewhere along a leg.
	t.next = r.IntN(k)
	prev := t.route[(t.next+k-1)%k]
	f := r.Float64()
	t.pos = latLon{prev.lat + f*(t.route[t.next].lat-prev.lat), prev.lon + f*(t.route[t.next].lon-prev.lon)}
	t.heading = bearing(t.pos, t.route[t.next])
	t.newLeg()
	t.ignition, t.ignSeen = true, true
	if r.IntN(5) == 0 {
		t.mode, t.left, t.ignition = parked, 30+r.IntN(300), false
	} else {
		// Under way, no faster than it could brake for the waypoint ahead.
		d := distance(t.pos, t.route[t.next])
		t.speed = min(t.cruise*(0.5+0.5*r.Float64()), math.Sqrt(creepSpeed*creepSpeed+2*brake*d))
	}
	t.sats = 7 + r.IntN(6)
	t.gsm = 3 + r.IntN(3)
	t.batt = 4.05 + 0.1*r.Float64()
	t.ext = 12.5
	if t.ignition {
		t.ext = 14.1
	}
	return t
}

// Start returns the time the track counts from.
func (t *Track) Start() time.Time { return t.start }

// At returns the vehicle's state at time ts. Times before Start give the
// state at Start. Calls must not go back in time: the state advances in
// whole-second steps and is not rewound (an earlier ts gives the state of
// the last step, at time ts).
func (t *Track) At(ts time.Time) Point {
	el := ts.Sub(t.start)
	if el < 0 {
		el = 0
	}
	for t.step < int64(el/stepLength) {
		t.advance()
	}
	frac := float64(el-time.Duration(t.step)*stepLength) / float64(stepLength)
	frac = max(0, min(1, frac))
	pos, odo := t.pos, t.odo
	if t.mode == driving && frac > 0 {
		d := min(t.speed*frac, distance(t.pos, t.route[t.next]))
		pos, odo = offset(t.pos, d, t.heading*math.Pi/180), odo+d
	}
	p := Point{
		Time:            ts,
		Latitude:        pos.lat,
		Longitude:       pos.lon,
		Altitude:        terrain(pos),
		Speed:           t.speed * 3.6,
		Heading:         math.Mod(t.heading+360, 360),
		Satellites:      t.sats,
		HDOP:            0.5 + 6/float64(t.sats),
		PDOP:            0.9 + 9/float64(t.sats),
		Ignition:        t.ignition,
		IgnitionChanged: !t.ignSeen,
		Moving:          t.speed > 0.3,
		ExternalVoltage: t.ext,
		BatteryVoltage:  t.batt,
		GSMLevel:        t.gsm,
		Odometer:        odo,
	}
	t.ignSeen = true
	return p
}

// advance moves the state one second on. Every random draw happens here,
// in step order, which is what makes a time's state independent of the
// times asked for before it.
func (t *Track) advance() {
	t.step++
	r := t.rng
	switch t.mode {
	case parked:
		t.speed = 0
		if t.left--; t.left <= 0 {
			t.setIgnition(true)
			t.mode, t.left = halted, 5+r.IntN(15) // warming up
		}
	case halted:
		t.speed = 0
		if t.left--; t.left <= 0 {
			t.mode = driving
		}
	case driving:
		t.drive()
	}
	// Slow drifts of what the tracker reports about itself.
	if r.IntN(10) == 0 {
		t.sats = max(5, min(14, t.sats+r.IntN(3)-1))
	}
	if r.IntN(20) == 0 {
		t.gsm = max(1, min(5, t.gsm+r.IntN(3)-1))
	}
	if t.ignition {
		t.ext += (14.1-t.ext)*0.2 + (r.Float64()-0.5)*0.06
	} else {
		t.ext += (12.5-t.ext)*0.02 + (r.Float64()-0.5)*0.01
	}
	t.batt = max(3.9, min(4.2, t.batt+(r.Float64()-0.5)*0.004))
}

func (t *Track) drive() {
	r := t.rng
	target := t.route[t.next]
	d := distance(t.pos, target)
	// Slow down in time to take the corner at turning speed, or to stop
	// at the junction or parking place ahead (creeping the last metres).
	end := turnSpeed
	if t.stopAhead != driving {
		end = creepSpeed
	}
	want := t.cruise + (r.Float64()-0.5)*1.5
	if t.braking || d < (t.speed*t.speed-end*end)/(2*brake)+2*t.speed {
		want, t.braking = end, true
	}
	t.speed = max(0, t.speed+max(-brake, min(accel, want-t.speed)))
	if d <= max(t.speed, creepSpeed) {
		// Arrive this second and turn towards the next waypoint.
		t.pos, t.odo = target, t.odo+d
		t.next = (t.next + 1) % len(t.route)
		t.heading = bearing(t.pos, t.route[t.next])
		switch t.stopAhead {
		case halted:
			t.speed, t.mode, t.left = 0, halted, 5+r.IntN(40)
		case parked:
			t.speed, t.mode, t.left = 0, parked, 60+r.IntN(540)
			t.setIgnition(false)
		}
		t.newLeg()
		return
	}
	t.heading = bearing(t.pos, target)
	t.pos = offset(t.pos, t.speed, t.heading*math.Pi/180)
	t.odo += t.speed
}

// newLeg chooses the cruising speed of the leg ahead and what the vehicle
// does at its end: drive on (70 %), stop at a junction (26 %) or park
// (4 %).
func (t *Track) newLeg() {
	r := t.rng
	t.braking = false
	t.cruise = (35 + r.Float64()*55) / 3.6
	switch x := r.IntN(100); {
	case x < 4:
		t.stopAhead = parked
	case x < 30:
		t.stopAhead = halted
	default:
		t.stopAhead = driving
	}
}

func (t *Track) setIgnition(on bool) {
	if t.ignition != on {
		t.ignition, t.ignSeen = on, false
	}
}

// terrain is a smooth altitude field, so that a vehicle climbs and
// descends as it drives: hills of a few kilometres on a slope of tens.
func terrain(p latLon) float64 {
	return 150 + 60*math.Sin(p.lat*37) + 40*math.Cos(p.lon*53) + 15*math.Sin((p.lat+p.lon)*211)
}

// offset moves p by d metres towards angle (radians clockwise from north),
// on a local flat approximation: good to metres over a city.
func offset(p latLon, d, angle float64) latLon {
	return latLon{
		lat: p.lat + d*math.Cos(angle)/metresLat,
		lon: p.lon + d*math.Sin(angle)/(metresLon*math.Cos(p.lat*math.Pi/180)),
	}
}

func distance(a, b latLon) float64 {
	dy := (b.lat - a.lat) * metresLat
	dx := (b.lon - a.lon) * metresLon * math.Cos(a.lat*math.Pi/180)
	return math.Hypot(dx, dy)
}

// bearing is the heading from a to b in degrees, [0, 360).
func bearing(a, b latLon) float64 {
	dy := (b.lat - a.lat) * metresLat
	dx := (b.lon - a.lon) * metresLon * math.Cos(a.lat*math.Pi/180)
	h := math.Atan2(dx, dy) * 180 / math.Pi
	if h < 0 {
		h += 360
	}
	return h
}
