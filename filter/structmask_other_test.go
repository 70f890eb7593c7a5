//go:build !amd64 || purego

package filter

import "testing"

func testArchMasks(t *testing.T, buf []byte, blocks int, want *blockMasks) {}
