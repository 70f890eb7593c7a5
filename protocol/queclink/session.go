package queclink

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// maxFields bounds the fields of one text frame (a GTCAN report with every
// mask bit set has about 150).
const maxFields = 1024

// Session decodes the frames of one connection (or one UDP peer). It
// remembers the device's IMEI and protocol version, which every text
// report carries and some binary frames do not. It is not safe for
// concurrent use.
type Session struct {
	codec      *Codec
	transport  protocol.Transport
	ident      string
	version    string // the last protocol version seen
	model      string
	status     string // the last device status, to reuse its string
	fields     [][]byte
	fixes      []fix    // scratch: the fixes of the frame being decoded
	rest       [][]byte // scratch: report fields without a name
	hexbuf     []byte   // scratch: hex text
	firmware   string   // the binary frames' firmware version, and its value
	firmwareOf uint64
}

// Ident returns the device's IMEI (or name) once a frame carried it, or "".
func (s *Session) Ident() string { return s.ident }

// Decode decodes one frame (over UDP, one datagram holding one frame).
// See the package documentation for what each report gives and which
// frames are answered.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	for len(frame) > 0 && isGap(frame[0]) {
		frame = frame[1:]
	}
	if len(frame) == 0 {
		return nil
	}
	var err error
	if n, known := binaryLength(frame); known && n >= 0 {
		err = s.decodeBinary(frame, r)
	} else if !known && len(frame) < 5 {
		err = protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "frame shorter than a header")
	} else {
		err = s.decodeText(frame, r)
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	return err
}

func (s *Session) setIdent(b []byte) { s.ident = tf.Intern(s.ident, b) }

func (s *Session) setVersion(v []byte) {
	if len(v) == 0 || string(v) == s.version {
		return
	}
	s.version = string(v)
	s.model = models[deviceType(v)]
}

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// sack appends the server acknowledgement of a report.
func sack(r *protocol.Result, count []byte) {
	r.Reply = append(r.Reply, "+SACK:"...)
	r.Reply = append(r.Reply, count...)
	r.Reply = append(r.Reply, '$')
}

// heartbeatAck appends "+SACK:GTHBD,<version>,<count>$".
func heartbeatAck(r *protocol.Result, version, count []byte) {
	r.Reply = append(r.Reply, "+SACK:GTHBD,"...)
	r.Reply = append(r.Reply, version...)
	r.Reply = append(r.Reply, ',')
	r.Reply = append(r.Reply, count...)
	r.Reply = append(r.Reply, '$')
}

// text returns b as a string a message keeps, without allocating for
// the values devices repeat.
func text(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "00":
		return "00"
	}
	return tf.Text(b)
}

func trimFrame(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '$', '\r', '\n', ' ', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return bytes.TrimLeft(b, " \r\n")
}
