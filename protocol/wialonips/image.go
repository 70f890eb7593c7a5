package wialonips

import (
	"encoding/base64"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// imageState is a snapshot being received in blocks (#I#).
type imageState struct {
	active bool
	name   string
	ts     float64
	hasTS  bool
	next   uint64 // index of the block expected next
	last   uint64 // index of the last block
	data   []byte
}

func (im *imageState) reset() {
	*im = imageState{data: im.data[:0]}
}

// snapshot handles one image block, #I#Sz;Ind;Count;Date;Time;Name[;CRC16]
// followed by Sz bytes. Blocks must come in order from 0; each is answered
// #AI#Ind;1 (or ;0 for an error, ;01 for a CRC16 mismatch). After the last
// block the image becomes one message (image.name, image.timestamp,
// image.bin.jpeg as base64, as flespi names them) and the reply adds #AI#1.
func (s *Session) snapshot(body, bin []byte, r *protocol.Result) {
	var f [8][]byte
	n := splitFields(body, f[:])
	if n != 6 && n != 7 {
		r.Reply = append(r.Reply, "#AI#NA;0\r\n"...)
		return
	}
	sz, ok1 := tf.Uint(f[0])
	ind, ok2 := tf.Uint(f[1])
	last, ok3 := tf.Uint(f[2])
	if !ok2 {
		r.Reply = append(r.Reply, "#AI#NA;0\r\n"...)
		return
	}
	answer := func(code string) {
		r.Reply = append(r.Reply, "#AI#"...)
		r.Reply = appendInt(r.Reply, int(ind))
		r.Reply = append(r.Reply, ';')
		r.Reply = append(r.Reply, code...)
		r.Reply = append(r.Reply, '\r', '\n')
	}
	ts, hasTS, okT := parseTimestamp(f[3], f[4])
	if !ok1 || !ok3 || sz != uint64(len(bin)) || ind > last || last >= maxImageBlocks || !okT {
		answer("0")
		return
	}
	bad := false
	if n == 7 {
		bad = !crcMatches(bin, f[6])
	} else {
		bad = s.version == version20
	}
	if bad && !s.lenient {
		answer("01")
		return
	}
	im := &s.image
	if ind == 0 {
		im.reset()
		im.active, im.name, im.ts, im.hasTS, im.last = true, tf.Text(f[5]), ts, hasTS, last
	} else if !im.active || ind != im.next || last != im.last || im.name != string(f[5]) {
		answer("0")
		return
	}
	if len(im.data)+len(bin) > s.limit*inflateFactor {
		im.reset()
		answer("0")
		return
	}
	im.data = append(im.data, bin...)
	im.next = ind + 1
	answer("1")
	if ind < last {
		return
	}
	m := r.NewMessageFor(s.ident, 0)
	if im.hasTS {
		m.SetFloat(protocol.ParamTimestamp, im.ts)
		m.SetFloat("image.timestamp", im.ts)
	}
	m.SetString("image.name", im.name)
	m.SetString("image.bin.jpeg", base64.StdEncoding.EncodeToString(im.data))
	if bad {
		m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
	}
	im.reset()
	r.Reply = append(r.Reply, "#AI#1\r\n"...)
}
