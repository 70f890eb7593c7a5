package wialonips_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// seedStreams are the inputs the fuzz corpus (testdata/fuzz/FuzzDecode)
// gets beyond the golden cases: one stream per packet type of the v1.1 and
// v2.0 documents that the goldens lack (#P#, #M#, #AM#, #I#, #IT#, #T#,
// #B# in both layouts, v2.0 CRC16s right and wrong), server-to-device
// types a device should not send, and the UDP forms (imei#TYPE#…,
// 2.0;imei;CRC#TYPE#…).
func seedStreams() map[string]string {
	img := "cd"
	imgCRC := fmt.Sprintf("%X", crc16.ARC.Checksum([]byte(img)))
	b11 := sdBody + "|" + dBody + "|"
	return map[string]string{
		"ping-v11":          login11 + "#P#\r\n",
		"ping-v20":          login20 + "#P#\r\n",
		"sd-v11":            login11 + "#SD#" + sdBody + "\r\n",
		"sd-v20":            login20 + crc("SD", sdBody+";"),
		"sd-v20-bad-crc":    login20 + "#SD#" + sdBody + ";FFFF\r\n",
		"d-v11":             login11 + "#D#" + dBody + "\r\n",
		"d-v20-bad-crc":     login20 + "#D#" + dBody + ";0000\r\n",
		"d-na":              login11 + "#D#NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA;NA\r\n",
		"d-params-types":    login11 + "#D#" + dWith(15, "a:1:1,b:2:2.5,c:3:text,d:1:-7,e:2:1e3,f:3:") + "\r\n",
		"d-adc":             login11 + "#D#" + dWith(13, "1.5,,2,NA,-3") + "\r\n",
		"b-v11":             login11 + "#B#" + b11 + "\r\n",
		"b-v20":             login20 + crc("B", b11),
		"b-v20-bad-crc":     login20 + "#B#" + b11 + "1234\r\n",
		"b-empty":           login11 + "#B#\r\n",
		"m-v11":             login11 + "#M#hello driver\r\n",
		"m-v20":             login20 + crc("M", "hello;"),
		"m-v20-bad-crc":     login20 + "#M#hello;0000\r\n",
		"am":                login11 + "#AM#1\r\n",
		"image-two-blocks":  login11 + "#I#3;0;1;070512;124010;a.jpg\r\nab\n#I#2;1;1;070512;124010;a.jpg\r\ncd",
		"image-v20":         login20 + "#I#2;0;0;070512;124010;a.jpg;" + imgCRC + "\r\n" + img,
		"image-out-of-size": login11 + "#I#9;0;0;070512;124010;a.jpg\r\ncd",
		"tachograph":        login11 + "#IT#070512;124010;driver;;3;1234\r\n#T#;2;0;1234\r\nxy",
		"server-types":      login11 + "#US#3\r\n#UC#2\r\n#QI#\r\n#AL#1\r\n#AD#1\r\n",
		"no-login-data":     "#D#" + dBody + "\r\n",
		"login-bad-crc":     "#L#2.0;860000000000000;NA;0000\r\n",
		"login-password":    "#L#860000000000000;secret\r\n",
		"udp-v11-d":         "860000000000000#D#" + dBody + "\r\n",
		"udp-v20-d":         fmt.Sprintf("2.0;860000000000000;%X#D#%s\r\n", crc16.ARC.Checksum([]byte("#D#"+dBody+"\r\n")), dBody),
		"unterminated":      login11 + "#D#" + dBody,
		"only-hash":         "#\r\n##\r\n#D\r\n",
	}
}

// TestWriteSeeds writes seedStreams into testdata/fuzz/FuzzDecode when
// WIALONIPS_WRITE_SEEDS is set; go test runs the corpus as seeds of
// FuzzDecode either way.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("WIALONIPS_WRITE_SEEDS") == "" {
		t.Skip("set WIALONIPS_WRITE_SEEDS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seedStreams() {
		p := filepath.Join(dir, "seed-"+name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every seed file the generator names exists: the corpus and the list stay
// in step.
func TestSeedCorpus(t *testing.T) {
	for name := range seedStreams() {
		p := filepath.Join("testdata", "fuzz", "FuzzDecode", "seed-"+name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run WIALONIPS_WRITE_SEEDS=1 go test -run TestWriteSeeds)", err)
		}
		if want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seedStreams()[name]); string(b) != want {
			t.Errorf("%s is stale (run WIALONIPS_WRITE_SEEDS=1 go test -run TestWriteSeeds)", p)
		}
	}
}
