package watch

import (
	"bytes"
	"encoding/hex"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// unescape undoes the escaping of binary data: 0x7D followed by 0x01,
// 0x02, 0x03, 0x04 or 0x05 stands for 0x7D, '[', ']', ',' or '*'. A 0x7D
// followed by anything else is kept as it is and reported.
func unescape(b []byte) (out []byte, bad bool) {
	if bytes.IndexByte(b, 0x7d) < 0 {
		return b, false
	}
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0x7d && i+1 < len(b) && b[i+1] >= 1 && b[i+1] <= 5 {
			out = append(out, "\x7d[],*"[b[i+1]-1])
			i++
			continue
		}
		if c == 0x7d {
			bad = true
		}
		out = append(out, c)
	}
	return out, bad
}

// escape is unescape's inverse, for commands that carry binary data.
func escape(dst, b []byte) []byte {
	for _, c := range b {
		switch c {
		case 0x7d:
			dst = append(dst, 0x7d, 1)
		case '[':
			dst = append(dst, 0x7d, 2)
		case ']':
			dst = append(dst, 0x7d, 3)
		case ',':
			dst = append(dst, 0x7d, 4)
		case '*':
			dst = append(dst, 0x7d, 5)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (d *frame) binary(b []byte) ([]byte, error) {
	data, bad := unescape(b)
	if bad {
		if !d.s.codec.Lenient {
			return nil, protocol.Errorf(Name, d.h.contentOff, protocol.ErrMalformed, "0x7D in binary data not followed by 01–05")
		}
		d.badEscape = true
	}
	return data, nil
}

// audio keeps a voice message ("TK,<AMR data>") in hex. The watch waits
// for "TK,1" (received).
func (d *frame) audio() error {
	if len(d.body) == 0 {
		return nil
	}
	data, err := d.binary(d.body)
	if err != nil {
		return err
	}
	m := d.begin(6)
	m.Add(paramAudio, protocol.String(hex.EncodeToString(data)))
	d.finish(m)
	return nil
}

// audioPart keeps one part of a voice message sent in parts,
// "JXTK,<n>,<name>,<part>,<parts>,<AMR data>", answered "JXTKR,1". Parts
// are not joined: each is a message with its number.
func (d *frame) audioPart() error {
	f := textfield.Split(d.s.fields, d.body, ',', 5)
	d.s.fields = f
	if len(f) < 5 {
		return protocol.Errorf(Name, d.h.contentOff, protocol.ErrTruncated, "JXTK part header")
	}
	data, err := d.binary(f[4])
	if err != nil {
		return err
	}
	m := d.begin(10)
	m.Add(paramAudioName, protocol.String(textfield.Text(f[1])))
	addUint(m, paramAudioPart, f[2])
	addUint(m, paramAudioParts, f[3])
	m.Add(paramAudio, protocol.String(hex.EncodeToString(data)))
	d.finish(m)
	return nil
}

// image keeps a picture, "img,<time>,<JPEG data>", in hex.
func (d *frame) image() error {
	i := bytes.IndexByte(d.body, ',')
	if i < 0 {
		return protocol.Errorf(Name, d.h.contentOff, protocol.ErrTruncated, "img without data")
	}
	data, err := d.binary(d.body[i+1:])
	if err != nil {
		return err
	}
	m := d.begin(6)
	m.Add(paramImage, protocol.String(hex.EncodeToString(data)))
	d.finish(m)
	return nil
}
