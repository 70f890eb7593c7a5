package gt06

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// TestWriteSeeds writes the frames of TestBuiltFromLayouts and TestModels
// into the fuzz corpus when GT06_WRITE_SEEDS is set.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("GT06_WRITE_SEEDS") == "" {
		t.Skip("set GT06_WRITE_SEEDS=1 to rewrite the seed corpus")
	}
	for _, dir := range []string{"FuzzDecode", "FuzzDecodeModels"} {
		for i, s := range seedFrames(t) {
			p := filepath.Join("testdata", "fuzz", dir, fmt.Sprintf("layout-%02d", i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", protocoltest.Hex(t, s))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// seedFrames are the frames the fuzz corpus gets beyond the golden cases.
func seedFrames(t *testing.T) []string {
	var out []string
	for _, tc := range layoutCases {
		out = append(out, buildFrame(tc.ext, tc.proto, tc.body))
	}
	return append(out, modelCaptures...)
}
