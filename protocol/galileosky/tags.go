package galileosky

import (
	"encoding/binary"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Tag value lengths, from the document's tag table. 0: the tag is not in
// the table (its length is unknown, so the rest of the packet cannot be
// read). Tags marked variable carry their own length: 0xE1 and 0xEA a u8,
// 0xFE a little-endian u16.
var tagLen = func() (t [256]uint8) {
	set := func(n uint8, tags ...int) {
		for _, tag := range tags {
			t[tag] = n
		}
	}
	set(1, 0x01, 0x02, 0x35, 0x43, 0xD5)
	for tag := 0x88; tag <= 0x8C; tag++ { // RS232/RS485 sensor temperatures
		set(1, tag)
	}
	for tag := 0xA0; tag <= 0xAF; tag++ { // CAN8BITR15–30
		set(1, tag)
	}
	for tag := 0xC4; tag <= 0xD2; tag++ { // CAN8BITR0–14
		set(1, tag)
	}
	set(2, 0x04, 0x10, 0x34, 0x40, 0x41, 0x42, 0x45, 0x46, 0x48, 0x58, 0x59, 0x60, 0x61, 0x62)
	for tag := 0x50; tag <= 0x57; tag++ { // inputs 0–7
		set(2, tag)
	}
	for tag := 0x70; tag <= 0x7D; tag++ { // thermometers 0–7, inputs 8–13
		set(2, tag)
	}
	for tag := 0xB0; tag <= 0xB9; tag++ { // CAN16BITR5–14
		set(2, tag)
	}
	for tag := 0xD6; tag <= 0xDA; tag++ { // CAN16BITR0–4
		set(2, tag)
	}
	set(3, 0x5D, 0xFA)
	for tag := 0x63; tag <= 0x6F; tag++ { // RS485 fuel sensors 3–15 with temperature
		set(3, tag)
	}
	for tag := 0x80; tag <= 0x87; tag++ { // DS1923 sensors 0–7
		set(3, tag)
	}
	set(4, 0x20, 0x33, 0x44, 0x47, 0x5A, 0x90, 0xC0, 0xC1, 0xC2, 0xC3, 0xD3, 0xD4, 0xE0)
	for tag := 0xDB; tag <= 0xDF; tag++ { // CAN32BITR0–4
		set(4, tag)
	}
	for tag := 0xE2; tag <= 0xE9; tag++ { // user data 0–7
		set(4, tag)
	}
	for tag := 0xF0; tag <= 0xF9; tag++ { // CAN32BITR5–14
		set(4, tag)
	}
	set(8, 0xFD)
	set(9, 0x30)
	set(15, 0x03)
	set(68, 0x5C)
	set(variable, 0xE1, 0xEA, 0xFE)
	return
}()

// variable marks the tags that carry their own length.
const variable = 0xFF

// tagValue returns the value of the tag at b[0] and the tag's size, tag
// byte included; ok is false when the tag is unknown or runs past b.
func tagValue(b []byte) (v []byte, size int, ok bool) {
	t := b[0]
	n := int(tagLen[t])
	switch {
	case n == 0:
		return nil, 0, false
	case n != variable:
		if 1+n > len(b) {
			return nil, 0, false
		}
		return b[1 : 1+n], 1 + n, true
	case t == 0xFE:
		if len(b) < 3 {
			return nil, 0, false
		}
		n = int(binary.LittleEndian.Uint16(b[1:]))
		if 3+n > len(b) {
			return nil, 0, false
		}
		return b[3 : 3+n], 3 + n, true
	default: // 0xE1, 0xEA: a u8 length
		if len(b) < 2 {
			return nil, 0, false
		}
		n = int(b[1])
		if 2+n > len(b) {
			return nil, 0, false
		}
		return b[2 : 2+n], 2 + n, true
	}
}

func le16(b []byte) uint64 { return uint64(binary.LittleEndian.Uint16(b)) }
func le32(b []byte) uint64 { return uint64(binary.LittleEndian.Uint32(b)) }

// addTag decodes one tag's value into m. Tags 0x03 (IMEI), 0x30
// (coordinates), 0xE0 and 0xE1 (commands) are handled by the caller.
func addTag(m *protocol.Message, t byte, v []byte) {
	switch {
	case t >= 0x50 && t <= 0x57:
		m.Add(ainName(int(t-0x50)), protocol.Float(float64(le16(v))/1000))
		return
	case t >= 0x78 && t <= 0x7D:
		m.Add(ainName(int(t-0x78)+8), protocol.Float(float64(le16(v))/1000))
		return
	case t >= 0x60 && t <= 0x62:
		m.Add(indexed(rs485Value, int(t-0x60)), protocol.Int(int64(le16(v))))
		return
	case t >= 0x63 && t <= 0x6F:
		n := int(t - 0x60)
		m.Add(indexed(rs485Value, n), protocol.Int(int64(le16(v))))
		m.Add(indexed(rs485Temp, n), protocol.Int(int64(int8(v[2]))))
		return
	case t >= 0x8A && t <= 0x8C:
		m.Add(indexed(rs485Temp, int(t-0x8A)), protocol.Int(int64(int8(v[0]))))
		return
	case t >= 0x70 && t <= 0x77:
		n := int(t - 0x70)
		m.Add(indexed(thermoID, n), protocol.Int(int64(v[0])))
		if temp := int8(v[1]); temp != -128 { // −128: the sensor is not connected
			m.Add(temperatureName(n), protocol.Int(int64(temp)))
		}
		return
	case t >= 0x80 && t <= 0x87:
		n := int(t - 0x80)
		m.Add(indexed(ds1923ID, n), protocol.Int(int64(v[0])))
		m.Add(indexed(ds1923Temp, n), protocol.Int(int64(int8(v[1]))))
		m.Add(indexed(ds1923Humidity, n), protocol.Float(round3(float64(v[2])*100/255)))
		return
	case t == 0x88 || t == 0x89:
		m.Add(indexed(rs232Temp, int(t-0x88)), protocol.Int(int64(int8(v[0]))))
		return
	case t >= 0xA0 && t <= 0xAF:
		m.Add(indexed(can8, int(t-0xA0)+15), protocol.Int(int64(v[0])))
		return
	case t >= 0xC4 && t <= 0xD2:
		m.Add(indexed(can8, int(t-0xC4)), protocol.Int(int64(v[0])))
		return
	case t >= 0xB0 && t <= 0xB9:
		m.Add(indexed(can16, int(t-0xB0)+5), protocol.Int(int64(le16(v))))
		return
	case t >= 0xD6 && t <= 0xDA:
		m.Add(indexed(can16, int(t-0xD6)), protocol.Int(int64(le16(v))))
		return
	case t >= 0xDB && t <= 0xDF:
		m.Add(indexed(can32, int(t-0xDB)), protocol.Int(int64(le32(v))))
		return
	case t >= 0xF0 && t <= 0xF9:
		m.Add(indexed(can32, int(t-0xF0)+5), protocol.Int(int64(le32(v))))
		return
	case t >= 0xE2 && t <= 0xE9:
		m.Add(indexed(userData, int(t-0xE2)), protocol.Int(int64(le32(v))))
		return
	}
	switch t {
	case 0x01:
		m.Add(paramHardware, protocol.Int(int64(v[0])))
	case 0x02:
		m.Add(paramFirmware, protocol.Int(int64(v[0])))
	case 0x04:
		m.Add(paramTerminalID, protocol.Int(int64(le16(v))))
	case 0x10:
		m.Add(paramRecordIndex, protocol.Int(int64(le16(v))))
	case 0x20:
		m.Add(protocol.ParamTimestamp, protocol.Int(int64(le32(v))))
	case 0x33:
		m.Add(protocol.ParamSpeed, protocol.Float(float64(le16(v))/10))
		m.Add(protocol.ParamDirection, protocol.Float(float64(le16(v[2:]))/10))
	case 0x34:
		m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(le16(v)))))
	case 0x35:
		m.Add(protocol.ParamHDOP, protocol.Float(float64(v[0])/10))
	case 0x40:
		m.Add(paramStatus, protocol.Int(int64(le16(v))))
	case 0x41:
		m.Add(paramPower, protocol.Float(float64(le16(v))/1000))
	case 0x42:
		m.Add(paramBattery, protocol.Float(float64(le16(v))/1000))
	case 0x43:
		m.Add(paramDeviceTemp, protocol.Int(int64(int8(v[0]))))
	case 0x44:
		a := le32(v) // three 10-bit axes
		m.Add(paramAccelX, protocol.Int(int64(a&0x3FF)))
		m.Add(paramAccelY, protocol.Int(int64(a>>10&0x3FF)))
		m.Add(paramAccelZ, protocol.Int(int64(a>>20&0x3FF)))
	case 0x45:
		m.Add(paramDout, protocol.Int(int64(le16(v))))
	case 0x46:
		m.Add(paramDin, protocol.Int(int64(le16(v))))
	case 0x47: // EcoDrive: acceleration, braking, cornering, bump, in 0.01 g
		m.Add(paramEcoAccel, protocol.Float(float64(v[0])/100))
		m.Add(paramEcoBrake, protocol.Float(float64(v[1])/100))
		m.Add(paramEcoTurn, protocol.Float(float64(v[2])/100))
		m.Add(paramEcoBump, protocol.Float(float64(v[3])/100))
	case 0x48:
		m.Add(paramStatusExt, protocol.Int(int64(le16(v))))
	case 0x58, 0x59:
		m.Add(indexed(rs232Value, int(t-0x58)), protocol.Int(int64(le16(v))))
	case 0x90:
		m.Add(paramIButton, protocol.String(hex8(uint32(le32(v)))))
	case 0xD3:
		m.Add(paramIButton2, protocol.String(hex8(uint32(le32(v)))))
	case 0xD4:
		m.Add(paramMileage, protocol.Float(float64(le32(v))/1000))
	case 0xD5:
		m.Add(paramIButtons, protocol.Int(int64(v[0])))
	case 0xC0:
		m.Add(paramCANFuelUsed, protocol.Float(float64(le32(v))/2))
	case 0xC1:
		m.Add(paramCANFuelLevel, protocol.Float(round3(float64(v[0])*0.4)))
		m.Add(paramCANCoolant, protocol.Int(int64(v[1])-40))
		m.Add(paramCANRPM, protocol.Float(float64(le16(v[2:]))*0.125))
	case 0xC2:
		m.Add(paramCANMileage, protocol.Float(float64(le32(v))*5/1000))
	case 0xC3:
		m.Add(paramCANB1, protocol.Int(int64(le32(v))))
	case 0xEA:
		m.Add(paramUserArray, protocol.String(hexLower(v)))
	default:
		m.Add(tagName(t), protocol.String(hexLower(v)))
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// Indexed names, made once: "ain#0" … and the like.
const (
	rs232Value = iota
	rs485Value
	rs485Temp
	rs232Temp
	thermoID
	ds1923ID
	ds1923Temp
	ds1923Humidity
	can8
	can16
	can32
	userData
	familyCount
)

var families = [familyCount]string{
	rs232Value:     "rs232.sensor.value#",
	rs485Value:     "rs485.sensor.value#",
	rs485Temp:      "rs485.sensor.temperature#",
	rs232Temp:      "custom.rs232.sensor.temperature#",
	thermoID:       "custom.temperature.sensor.id#",
	ds1923ID:       "custom.ds1923.id#",
	ds1923Temp:     "custom.ds1923.temperature#",
	ds1923Humidity: "custom.ds1923.humidity#",
	can8:           "can.8bit.value#",
	can16:          "can.16bit.value#",
	can32:          "can.32bit.value#",
	userData:       "custom.user.data#",
}

const maxIndex = 32

var indexedNames = func() (t [familyCount][maxIndex]string) {
	for f := range t {
		for i := range t[f] {
			t[f][i] = families[f] + strconv.Itoa(i)
		}
	}
	return
}()

func indexed(family, i int) string { return indexedNames[family][i] }

var ainNames = func() (t [14]string) {
	for i := range t {
		t[i] = "ain#" + strconv.Itoa(i)
	}
	return
}()

func ainName(i int) string { return ainNames[i] }

var tempNames = func() (t [8]string) {
	for i := range t {
		t[i] = "temperature#" + strconv.Itoa(i)
	}
	return
}()

func temperatureName(i int) string { return tempNames[i] }

// tagNames caches "custom.tag.0xNN" for tags kept raw.
var tagNames = func() (t [256]string) {
	for i := range t {
		t[i] = "custom.tag.0x" + hex2Lower(byte(i))
	}
	return
}()

func tagName(t byte) string { return tagNames[t] }

const lowerHex = "0123456789abcdef"

func hex2Lower(b byte) string { return string([]byte{lowerHex[b>>4], lowerHex[b&15]}) }

func hexLower(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = lowerHex[c>>4], lowerHex[c&15]
	}
	return string(out)
}

func hex8(v uint32) string {
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = lowerHex[v&15]
		v >>= 4
	}
	return string(b[:])
}
