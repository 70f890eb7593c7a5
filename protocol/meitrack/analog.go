package meitrack

import (
	"bytes"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// adcScale is how a model's AAA analog readings turn into volts.
type adcScale uint8

const (
	adcUnknown adcScale = iota // the frame must say (decimal volts, protocol version ≥ 3)
	adc10                      // 10-bit ADC: MVT340, MVT380
	adc12                      // 12-bit ADC: MVT100, MVT600, MVT800, T1, T3, TC68, TC68S, MT90
)

func adcFamily(model string) adcScale {
	switch strings.ToUpper(model) {
	case "MVT340", "MVT380":
		return adc10
	case "MVT100", "MVT600", "MVT800", "T1", "T3", "TC68", "TC68S", "MT90":
		return adc12
	}
	return adcUnknown
}

// Volts per count of each reading: analog inputs, battery, external power.
var scales = [...][3]float64{
	adc10: {6.0 / 1024, 6.0 / 1024, 48.0 / 1024},
	adc12: {6.6 / 4096, 6.6 / 4096, 52.8 / 4096},
}

// addAnalog decodes "AD1|AD2|AD3|battery|external power". Readings written
// with a decimal point are volts. Hex readings are scaled by the model's ADC
// (Codec.Model); without a model, firmware that states protocol version 3 or
// later sends hundredths of a volt, and older firmware's counts are kept raw
// under custom.*.adc, since their scaling depends on the model.
func (s *Session) addAnalog(m *protocol.Message, b []byte, version uint64) {
	var parts [5][]byte
	k := 0
	for k < len(parts) {
		i := bytes.IndexByte(b, '|')
		if i < 0 {
			parts[k] = b
			k++
			break
		}
		parts[k], b = b[:i], b[i+1:]
		k++
	}
	if k == 0 || k == 1 && len(parts[0]) == 0 {
		return
	}
	if hasDot(parts[:k]) {
		for i, p := range parts[:k] {
			v, ok := parseDecimal(p)
			if !ok {
				continue
			}
			switch i {
			case 0:
				m.Add(paramBattery, protocol.Float(v))
			case 1:
				m.Add(paramPower, protocol.Float(v))
			default:
				m.Add(extraVolts[i-2], protocol.Float(v))
			}
		}
		return
	}
	var scale [3]float64
	switch {
	case s.adc != adcUnknown:
		scale = scales[s.adc]
	case version >= 3:
		scale = [3]float64{0.01, 0.01, 0.01}
	}
	for i, p := range parts[:k] {
		v, ok := textfield.Hex(p)
		if !ok {
			continue
		}
		raw := float64(v)
		switch {
		case i < 3 && scale[0] != 0:
			m.Add(ainNames[i], protocol.Float(round(raw*scale[0])))
		case i < 3:
			m.Add(adcNames[i], protocol.Int(int64(v)))
		case i == 3 && scale[1] != 0:
			m.Add(paramBattery, protocol.Float(round(raw*scale[1])))
		case i == 3:
			m.Add(paramBatADC, protocol.Int(int64(v)))
		case scale[2] != 0:
			m.Add(paramPower, protocol.Float(round(raw*scale[2])))
		default:
			m.Add(paramPwrADC, protocol.Int(int64(v)))
		}
	}
}

func hasDot(parts [][]byte) bool {
	for _, p := range parts {
		if bytes.IndexByte(p, '.') >= 0 {
			return true
		}
	}
	return false
}

// round keeps millivolts: a scaled ADC count has no more precision.
func round(v float64) float64 {
	if v < 0 {
		return -round(-v)
	}
	return float64(int64(v*1000+0.5)) / 1000
}
