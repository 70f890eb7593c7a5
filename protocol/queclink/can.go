package queclink

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// maskedReport decodes a report whose fields a mask announces (GTCAN,
// GTOBD): each set bit, in the order of fields, names one field; decode
// is called with the bit and the field. The walk stops at the report's fix
// (found by its format) and at the first bit it has no name for; the fix
// becomes the message's position, and what follows it goes through the
// usual shapes (mileage). Fields it could not name are kept as sent.
func (s *Session) maskedReport(rp *report, r *protocol.Result, start int, mask uint64, order []int, decode func(*protocol.Message, int, []byte) bool) {
	body := rp.body
	fixes := findFixes(body, s.model, s.fixes)
	s.fixes = fixes
	stop := len(body)
	if len(fixes) > 0 {
		stop = fixes[0].start
	}
	m := s.begin(r)
	if len(fixes) > 0 {
		s.addFix(m, body, fixes[len(fixes)-1], rp.send, rp.hasSend)
	} else if rp.hasSend {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(rp.send)))
	}
	i := start
	var rest [][]byte
	for _, bit := range order {
		if mask&(1<<uint(bit)) == 0 {
			continue
		}
		if i >= stop {
			break
		}
		v := body[i]
		i++
		if len(v) > 0 && !decode(m, bit, v) {
			rest = append(rest, v)
		}
	}
	if i < stop {
		rest = append(rest, body[i:stop]...)
	}
	if len(fixes) > 0 {
		rest = append(rest, shapes(m, body[min(fixes[len(fixes)-1].end, len(body)):], familyGV, nil)...)
	}
	if nonEmpty(rest) {
		m.Add(paramTail, protocol.String(tf.Text(bytes.Join(rest, []byte{','}))))
	}
	s.footer(m, rp)
}

// canOrder is the order of GTCAN fields by mask bit: the documents list
// engine RPM (bit 5) before vehicle speed (bit 4). Bits past 21 differ by
// model and end the walk.
var canOrder = []int{0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}

// can decodes +RESP:GTCAN: <report type>,<CAN bus state>,<CAN report mask>,
// then the CAN100/CAN-bus data the mask announces.
func (s *Session) can(rp *report, r *protocol.Result) {
	b := rp.body
	if len(b) < 3 || len(b[2]) != 8 || !tf.IsHex(b[2]) {
		s.positional(rp, r)
		return
	}
	mask, _ := tf.Hex(b[2])
	s.maskedReport(rp, r, 3, mask, canOrder, func(m *protocol.Message, bit int, v []byte) bool {
		switch bit {
		case 0:
			m.Add(paramVIN, protocol.String(tf.Text(v)))
		case 1:
			k, ok := tf.Uint(v)
			if !ok {
				return false
			}
			m.Add("custom.can.ignition.key", protocol.Int(int64(k)))
			m.Set(paramIgnition, protocol.Bool(k > 0))
		case 2: // "H<hectometres>", or "I<impulses>"
			if v[0] == 'H' {
				if hm, ok := tf.Uint(v[1:]); ok {
					m.Add(paramCANMileage, protocol.Float(float64(hm)/10))
					return true
				}
			}
			return addCustom(m, "custom.can.distance", v)
		case 3: // litres, "L" prefixed on some firmware
			return addNumber(m, "can.fuel.consumed", bytes.TrimPrefix(v, []byte{'L'}))
		case 4:
			return addNumber(m, paramCANSpeed, v)
		case 5:
			return addNumber(m, paramRPM, v)
		case 6:
			return addNumber(m, paramCoolant, v)
		case 7:
			return addCustom(m, "custom.can.fuel.consumption", v)
		case 8: // "P<percent>" or "L<litres>"
			switch v[0] {
			case 'P':
				return addNumber(m, paramFuelLevel, v[1:])
			case 'L':
				return addNumber(m, paramFuelVolume, v[1:])
			}
			return addNumber(m, paramFuelLevel, v)
		case 9: // "H<hectometres>" to drive on the remaining fuel
			if v[0] == 'H' {
				if hm, ok := tf.Uint(v[1:]); ok {
					m.Add("custom.can.range", protocol.Float(float64(hm)/10))
					return true
				}
			}
			return false
		case 10:
			return addNumber(m, "custom.can.accelerator.pedal", v)
		case 11:
			return addNumber(m, "custom.can.engine.hours", v)
		case 12:
			return addNumber(m, "custom.can.driving.hours", v)
		case 13:
			return addNumber(m, "custom.can.idle.hours", v)
		case 14:
			return addNumber(m, "custom.can.idle.fuel.used", bytes.TrimPrefix(v, []byte{'L'}))
		case 15:
			return addNumber(m, "custom.can.axle.weight", v)
		case 16:
			return addCustom(m, "custom.can.tachograph", v)
		case 17:
			return addCustom(m, "custom.can.indicators", v)
		case 18:
			return addCustom(m, "custom.can.lights", v)
		case 19:
			return addCustom(m, "custom.can.doors", v)
		case 20:
			return addNumber(m, "custom.can.vehicle.overspeed.hours", v)
		case 21:
			return addNumber(m, "custom.can.engine.overspeed.hours", v)
		default:
			return false
		}
		return true
	})
}

// obdOrder: GTOBD fields by report mask bit, up to the OBD mileage (bit
// 19); the fix follows.
var obdOrder = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}

// obd decodes +RESP:GTOBD (GV500): <report type>,<OBD report mask>, then
// the OBD-II data the mask announces.
func (s *Session) obd(rp *report, r *protocol.Result) {
	b := rp.body
	if len(b) < 2 || len(b[1]) > 8 || !tf.IsHex(b[1]) {
		s.positional(rp, r)
		return
	}
	mask, _ := tf.Hex(b[1])
	s.maskedReport(rp, r, 2, mask, obdOrder, func(m *protocol.Message, bit int, v []byte) bool {
		switch bit {
		case 0:
			m.Add(paramVIN, protocol.String(tf.Text(v)))
		case 1:
			m.Add("custom.obd.connected.status", protocol.Bool(string(v) == "1"))
		case 2:
			mv, ok := tf.Uint(v)
			if !ok {
				return false
			}
			m.Add(paramPower, protocol.Float(float64(mv)/1000))
		case 3:
			return addCustom(m, "custom.obd.supported.pids", v)
		case 4:
			return addNumber(m, paramRPM, v)
		case 5:
			return addNumber(m, paramCANSpeed, v)
		case 6:
			return addNumber(m, paramCoolant, v)
		case 7:
			return addNumber(m, "custom.obd.fuel.consumption", v)
		case 8:
			return addNumber(m, "custom.obd.dtcs.cleared.distance", v)
		case 9:
			return addNumber(m, "custom.obd.mil.distance", v)
		case 10:
			m.Add("custom.obd.mil.status", protocol.Bool(string(v) == "1"))
		case 11:
			return addNumber(m, "custom.obd.dtcs.count", v)
		case 12:
			return addCustom(m, "custom.obd.dtcs", v)
		case 13:
			return addNumber(m, "custom.obd.throttle", v)
		case 14:
			return addNumber(m, "custom.obd.engine.load", v)
		case 15:
			return addNumber(m, paramFuelLevel, v)
		case 19:
			return addNumber(m, paramCANMileage, v)
		default:
			return false
		}
		return true
	})
}

func addNumber(m *protocol.Message, name string, v []byte) bool {
	x, ok := tf.Decimal(v)
	if ok {
		m.Set(name, protocol.Float(x))
	}
	return ok
}

func addCustom(m *protocol.Message, name string, v []byte) bool {
	m.Set(name, protocol.String(tf.Text(v)))
	return true
}
