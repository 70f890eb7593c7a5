package wialonretranslator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// ErrUnencodable is wrapped by the errors of [Append]: the message cannot
// be a Retranslator packet (no ident, no time, a text with a zero byte, a
// packet larger than [MaxPacketSize]). Sending it again cannot help.
var ErrUnencodable = errors.New("wialonretranslator: message cannot be encoded")

// MaxPacketSize bounds the packets [Append] writes, size field included:
// the default frame limit of [Codec], so that a gnssgate receiver takes
// whatever a gnssgate sender sends.
const MaxPacketSize = protocol.DefaultMaxFrameSize

const blockType = 0x0BBB

func unencodable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnencodable}, args...)...)
}

// Append appends m as one Retranslator packet to dst, mapping its
// parameters to blocks as the package documentation's table says, and
// returns the extended slice. On error dst is returned unchanged in
// length.
//
// The controller id is m's "ident"; the time is its "timestamp" (or, when
// it has none, "server.timestamp"), whole seconds.
func Append(dst []byte, m *protocol.Message) ([]byte, error) {
	start := len(dst)
	out, err := appendPacket(dst, m)
	if err != nil {
		return dst[:start], err
	}
	if len(out)-start > MaxPacketSize {
		return dst[:start], unencodable("packet of %d bytes exceeds %d", len(out)-start, MaxPacketSize)
	}
	return out, nil
}

func appendPacket(dst []byte, m *protocol.Message) ([]byte, error) {
	start := len(dst)
	ident, ok := m.Str(protocol.ParamIdent)
	if !ok || ident == "" {
		return dst, unencodable("no ident")
	}
	if !printableString(ident) {
		return dst, unencodable("ident %q holds control characters", ident)
	}
	ts, ok := m.Float(protocol.ParamTimestamp)
	if !ok {
		ts, ok = m.Float(protocol.ParamServerTimestamp)
	}
	if !ok || math.IsNaN(ts) || ts < 0 || ts >= 1<<32 {
		return dst, unencodable("no timestamp in the range of a u32")
	}
	dst = append(dst, 0, 0, 0, 0) // size, set at the end
	dst = append(dst, ident...)
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(ts))
	flagsAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	var flags uint32

	lat, okLat := m.Float(protocol.ParamLatitude)
	lon, okLon := m.Float(protocol.ParamLongitude)
	posinfo := okLat && okLon && finite(lat) && finite(lon)
	if posinfo {
		flags |= flagPosition
		alt, _ := m.Float(protocol.ParamAltitude)
		if !finite(alt) {
			alt = 0
		}
		speed, _ := m.Float(protocol.ParamSpeed)
		course, _ := m.Float(protocol.ParamDirection)
		sats, _ := m.Float(protocol.ParamSatellites)
		var at int
		dst, at = openBlock(dst, blockPosinfo, true, typeBinary)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(lon))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(lat))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(alt))
		dst = binary.BigEndian.AppendUint16(dst, uint16(clampRound(speed, 0xFFFF)))
		dst = binary.BigEndian.AppendUint16(dst, uint16(clampRound(course, 0xFFFF)))
		dst = append(dst, uint8(clampRound(sats, 0xFF)))
		closeBlock(dst, at)
	}

	var err error
	for _, p := range m.Params() {
		name, v := p.Name, p.Value
		switch {
		case name == protocol.ParamIdent || name == protocol.ParamTimestamp || v.IsNull():
			continue
		case posinfo && isPosition(name) && v.IsNumber():
			continue // in posinfo
		case name == paramAlarm:
			if b, isBool := v.Bool(); isBool {
				if b {
					flags |= flagAlarm
				}
				continue
			}
		}
		if mp := byParam(name); mp != nil {
			var done bool
			if dst, done = appendMapped(dst, mp, v); done {
				flags |= mp.flag
				continue
			}
		} else if n := ainIndex(name); n > 0 {
			if f, isNum := v.Float(); isNum {
				var at int
				dst, at = openBlock(dst, "adc"+strconv.Itoa(n), false, typeDouble)
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
				closeBlock(dst, at)
				continue
			}
		}
		if !printableString(name) || len(name) > maxNameLen {
			return dst, unencodable("parameter name %q is too long or holds control characters", cut(name))
		}
		if dst, err = appendGeneric(dst, genericBlockName(name), v); err != nil {
			return dst, err
		}
	}
	binary.BigEndian.PutUint32(dst[flagsAt:], flags)
	size := len(dst) - start - 4
	if size > math.MaxUint32 {
		return dst, unencodable("packet too large")
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(size))
	return dst, nil
}

// appendMapped writes a table block when v fits its kind; done is false
// when it does not (the parameter then goes out under its own name).
func appendMapped(dst []byte, mp *mapping, v protocol.Value) ([]byte, bool) {
	var at int
	switch mp.kind {
	case kindNumber:
		f, ok := v.Float()
		if !ok {
			return dst, false
		}
		dst, at = openBlock(dst, mp.block, mp.hidden, typeDouble)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case kindInt:
		i, ok := v.Int()
		if !ok {
			return dst, false
		}
		dst, at = appendIntBlock(dst, mp.block, mp.hidden, i)
	case kindBool:
		b, ok := v.Bool()
		if !ok {
			return dst, false
		}
		dst, at = openBlock(dst, mp.block, mp.hidden, typeInt32)
		dst = binary.BigEndian.AppendUint32(dst, boolInt(b))
	default: // kindText
		s, ok := v.Str()
		if !ok || strings.IndexByte(s, 0) >= 0 {
			return dst, false
		}
		dst, at = openBlock(dst, mp.block, mp.hidden, typeText)
		dst = append(dst, s...)
		dst = append(dst, 0)
	}
	closeBlock(dst, at)
	return dst, true
}

// appendGeneric writes a parameter outside the table as a named block
// typed by its value.
func appendGeneric(dst []byte, name string, v protocol.Value) ([]byte, error) {
	var at int
	switch v.Kind() {
	case protocol.KindBool:
		b, _ := v.Bool()
		dst, at = openBlock(dst, name, false, typeInt32)
		dst = binary.BigEndian.AppendUint32(dst, boolInt(b))
	case protocol.KindInt:
		i, _ := v.Int()
		dst, at = appendIntBlock(dst, name, false, i)
	case protocol.KindFloat:
		f, _ := v.Float()
		dst, at = openBlock(dst, name, false, typeDouble)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case protocol.KindString:
		s, _ := v.Str()
		if strings.IndexByte(s, 0) >= 0 {
			return dst, unencodable("parameter %q holds a zero byte", name)
		}
		dst, at = openBlock(dst, name, false, typeText)
		dst = append(dst, s...)
		dst = append(dst, 0)
	default: // KindUint (above int64) and KindJSON: their text
		dst, at = openBlock(dst, name, false, typeText)
		dst = v.AppendJSON(dst)
		dst = append(dst, 0)
	}
	closeBlock(dst, at)
	return dst, nil
}

func appendIntBlock(dst []byte, name string, hidden bool, i int64) ([]byte, int) {
	var at int
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		dst, at = openBlock(dst, name, hidden, typeInt32)
		return binary.BigEndian.AppendUint32(dst, uint32(int32(i))), at
	}
	dst, at = openBlock(dst, name, hidden, typeInt64)
	return binary.BigEndian.AppendUint64(dst, uint64(i)), at
}

// genericBlockName is the block name of a parameter outside the table:
// the reverse of the decoder's naming, and never a name Wialon reads as
// one of its own blocks.
func genericBlockName(param string) string {
	name := blockName(param)
	if name == blockPosinfo || byBlock(name) != nil || adcIndex(name) > 0 {
		return "custom." + name
	}
	return name
}

// openBlock appends a block header and name and returns where the size
// field is, for closeBlock.
func openBlock(dst []byte, name string, hidden bool, dtype byte) ([]byte, int) {
	dst = append(dst, blockType>>8, blockType&0xFF)
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	var h byte
	if hidden {
		h = 1
	}
	dst = append(dst, h, dtype)
	dst = append(dst, name...)
	return append(dst, 0), at
}

// closeBlock sets the size of the block whose size field is at at.
func closeBlock(dst []byte, at int) {
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
}

func boolInt(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// clampRound rounds f to the nearest whole number within [0, max].
func clampRound(f float64, max float64) float64 {
	if !(f > 0) { // NaN too
		return 0
	}
	return math.Min(math.Round(f), max)
}

func cut(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
