package queclink

import "strings"

// models maps the device type that starts a protocol version (two hex
// characters, six for the later models whose version is ten) to the model
// it names, as the @Track documents number them.
var models = map[string]string{
	"02": "GL200", "04": "GV200", "06": "GV300", "08": "GMT100", "09": "GV50P",
	"0F": "GV55", "10": "GV55 LITE", "11": "GL500", "1A": "GL300", "1F": "GV500",
	"21": "GL200", "25": "GV300", "27": "GV300W", "28": "GL300VC", "2C": "GL300W",
	"2D": "GV500VC", "2F": "GV55", "30": "GL300", "31": "GV65", "35": "GV200",
	"36": "GV500", "3F": "GMT100", "40": "GL500", "41": "GV75W", "42": "GT501",
	"44": "GL530", "45": "GB100", "4F": "GV56", "50": "GV55W", "52": "GL50",
	"55": "GL50B", "5E": "GV500MAP", "6E": "GV310LAU", "74": "GV350CEU",
	"BD": "CV200", "C2": "GV600M", "C3": "GL320M", "DC": "GV600MG", "DE": "GL500M",
	"DF": "CV100LG", "F1": "GV350M", "F8": "GV800W", "FC": "GV600W",
	"802004": "GV58LAU", "802005": "GV355CEU", "80201E": "GV30CEU",
}

// deviceType returns the device type part of a protocol version: its first
// two characters, or six for the ten-character versions of later models.
func deviceType(version []byte) string {
	switch {
	case len(version) > 6:
		return strings.ToUpper(string(version[:6]))
	case len(version) >= 2:
		return strings.ToUpper(string(version[:2]))
	}
	return ""
}

// family is how a model lays out the fields after its fixes.
type family uint8

const (
	familyUnknown family = iota
	familyGV             // mileage, hour meter, analog inputs, battery %, device status, …
	familyGV200          // mileage, hour meter, three analog inputs, digital input, digital output
	familyGL             // personal trackers: mileage or nothing, then battery %
)

func familyOf(model string) family {
	switch {
	case model == "GV200":
		return familyGV200
	case strings.HasPrefix(model, "GV"), strings.HasPrefix(model, "GMT"), strings.HasPrefix(model, "CV"):
		return familyGV
	case strings.HasPrefix(model, "GL"), strings.HasPrefix(model, "GT"), strings.HasPrefix(model, "GB"):
		return familyGL
	}
	return familyUnknown
}

// defaultPassword is a model's factory password: its name in lower case.
func defaultPassword(model string) string {
	if model == "" {
		return "gv300"
	}
	return strings.ToLower(strings.ReplaceAll(model, " ", ""))
}
