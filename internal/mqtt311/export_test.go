package mqtt311

import (
	"bufio"
	"bytes"
)

// ReadPacketForTest reads packets from data until an error.
func ReadPacketForTest(data []byte, max int) {
	br := bufio.NewReader(bytes.NewReader(data))
	for {
		if _, err := readPacket(br, max); err != nil {
			return
		}
	}
}
