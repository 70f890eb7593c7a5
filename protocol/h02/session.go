package h02

import (
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// maxFields bounds the fields of one text frame: NBR carries at most 6
// cells (20 fields), BC at most 100 points separated by ';'.
const maxFields = 512

// Session decodes the frames of one connection (or one UDP peer). It
// remembers the device id the frames carry (an X-mode binary record has
// none and takes it from the frames before it), the maker letters the
// device uses ("HQ"), and the binary record size once found. It is not
// safe for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	binSize   int

	ident  string
	maker  [2]byte
	fields [][]byte
}

// Ident returns the device id the session has seen, or "".
func (s *Session) Ident() string { return s.ident }

// Split cuts the session's stream as [Codec.Split] does, remembering the
// binary record size once a frame after a record has confirmed it.
func (s *Session) Split(data []byte, atEOF bool) (int, []byte, error) {
	adv, frame, learnt, err := split(data, atEOF, protocol.FrameLimit(s.codec.MaxFrameSize), s.binSize)
	if learnt > 0 {
		s.binSize = learnt
	}
	return adv, frame, err
}

// Decode decodes one frame (over UDP, one datagram: a text frame, or one
// or more binary records). See the package documentation for what each
// frame type gives and which are answered.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	for len(frame) > 0 && isGap(frame[0]) {
		frame = frame[1:]
	}
	if len(frame) > 0 && frame[0] == '*' {
		for isGap(frame[len(frame)-1]) {
			frame = frame[:len(frame)-1]
		}
	}
	if len(frame) == 0 {
		return nil
	}
	var err error
	switch frame[0] {
	case '*':
		err = s.decodeText(frame, r)
	case '$', 'X':
		err = s.decodeBinaryRecords(frame, r)
	default:
		err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "a frame starts with '*', '$' or 'X'")
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	return err
}

// setIdent records the id a frame carries.
func (s *Session) setIdent(id []byte) {
	s.ident = textfield.Intern(s.ident, id)
}

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// now returns the codec's clock.
func (s *Session) now() time.Time {
	if s.codec.Now != nil {
		return s.codec.Now()
	}
	return time.Now()
}

// timestamp adds the Unix time of a device date and time, shifted by the
// codec's UTC offset. It reports false (and adds nothing) when the date or
// time is out of range, as devices without a fix send "000000".
func (s *Session) timestamp(m *protocol.Message, year, mon, day, h, mi, sec int) bool {
	t, ok := textfield.Unix(year, mon, day, h, mi, sec)
	if !ok {
		return false
	}
	t -= int64(s.codec.UTCOffset / time.Second)
	m.Add(protocol.ParamTimestamp, protocol.Float(float64(t)))
	return true
}

// status decodes the terminal status word. Bits are negative logic (a
// clear bit is active). Only bits on which both H02 documents (V1.0.3 and
// LKGPS) agree get common names; the word itself is kept whole for the
// model-specific rest.
func status(m *protocol.Message, v uint32) {
	m.Add(paramStatus, protocol.Int(int64(v)))
	active := func(bit uint) bool { return v&(1<<bit) == 0 }
	m.Add(paramIgnition, protocol.Bool(!active(10))) // third byte bit 2: "ACC off"
	if active(8) {
		m.Add(paramDoor, protocol.Bool(true))
	}
	if active(9) {
		m.Add(paramArmed, protocol.Bool(true))
	}
	alarm := false
	if active(1) { // fourth byte bit 1: robbery alarm (V1.0.3), SOS (LKGPS)
		m.Add(paramSOS, protocol.Bool(true))
		alarm = true
	}
	if active(2) {
		m.Add(paramOverspeed, protocol.Bool(true))
		alarm = true
	}
	if active(3) {
		m.Add(paramIllegalIgn, protocol.Bool(true))
		alarm = true
	}
	if active(4) {
		m.Add(paramGeofenceIn, protocol.Bool(true))
		alarm = true
	}
	if active(7) {
		m.Add(paramGeofenceOut, protocol.Bool(true))
		alarm = true
	}
	if active(5) || active(6) || active(21) || active(22) {
		m.Add(paramAntennaCut, protocol.Bool(true))
	}
	if active(19) { // second byte bit 3: powered by the backup battery
		m.Add(paramPowerOK, protocol.Bool(false))
	}
	if active(24) {
		m.Add(paramTempAlarm, protocol.Bool(true))
		alarm = true
	}
	if active(27) {
		m.Add(paramEngineCut, protocol.Bool(true))
	}
	if alarm {
		m.Add(paramAlarm, protocol.Bool(true))
	}
}

// levelPercent turns the 1–6 power level of LKGPS frames into the
// percentage the document gives for it.
var levelPercent = [...]int64{0, 10, 20, 40, 60, 80, 100}
