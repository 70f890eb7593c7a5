package mqtt311

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/mochi-mqtt/server/v2/packets"
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

// ComparePublishForTest reads data with readPublish, through a buffer of
// bufSize bytes, and with readPacket, and returns both readings of each
// packet in turn ("" once one ends): the fast path must agree with mochi's
// decoder on every PUBLISH.
func ComparePublishForTest(data []byte, max, bufSize int) (fast, slow []string) {
	br := bufio.NewReaderSize(bytes.NewReader(data), bufSize)
	for {
		var got string
		_, ok, err := readPublish(br, max, func(m Message) {
			got = fmt.Sprintf("%s %x q%d r%v d%v id%d", m.Topic, m.Payload, m.QoS, m.Retain, m.Dup, m.PacketID)
		})
		if err != nil || !ok {
			break
		}
		fast = append(fast, got)
	}
	br = bufio.NewReaderSize(bytes.NewReader(data), bufSize)
	for {
		pk, err := readPacket(br, max)
		if err != nil || pk.FixedHeader.Type != packets.Publish {
			break
		}
		slow = append(slow, fmt.Sprintf("%s %x q%d r%v d%v id%d", pk.TopicName, pk.Payload, pk.FixedHeader.Qos,
			pk.FixedHeader.Retain, pk.FixedHeader.Dup, pk.PacketID))
	}
	return fast, slow
}
