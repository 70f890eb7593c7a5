package wialonips_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

func compress(t testing.TB, text string) []byte {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write([]byte(text))
	w.Close()
	if z.Len() > 0xFFFF {
		t.Fatalf("compressed %d bytes, more than a container holds", z.Len())
	}
	out := []byte{0xFF, 0, 0}
	binary.LittleEndian.PutUint16(out[1:], uint16(z.Len()))
	return append(out, z.Bytes()...)
}

func TestSplit(t *testing.T) {
	c := &wialonips.Codec{MaxFrameSize: 64}
	tests := []struct {
		name  string
		data  string
		atEOF bool
		adv   int
		frame string
		err   error
	}{
		{"crlf", "#P#\r\n#P#", false, 5, "#P#", nil},
		{"bare lf", "#P#\n", false, 4, "#P#", nil},
		{"partial", "#P", false, 0, "", nil},
		{"partial at eof", "#P#", true, 3, "#P#", nil},
		{"empty line", "\r\n#P#\r\n", false, 2, "", nil},
		{"line too long", strings.Repeat("x", 70), false, 0, "", protocol.ErrFrameTooLarge},
		{"line too long with newline", strings.Repeat("x", 70) + "\n", false, 0, "", protocol.ErrFrameTooLarge},
		{"longest line", strings.Repeat("x", 64) + "\r\n", false, 66, strings.Repeat("x", 64), nil},
		{"container", "\xff\x02\x00ab#P#", false, 5, "\xff\x02\x00ab", nil},
		{"container partial", "\xff\x05\x00ab", false, 0, "", nil},
		{"container too large", "\xff\xff\x00", false, 0, "", protocol.ErrFrameTooLarge},
		{"snapshot block", "#I#4;0;0;070512;124010;a.jpg\r\n\r\n\r\n#P#", false, 34, "#I#4;0;0;070512;124010;a.jpg\r\n\r\n\r\n", nil},
		{"snapshot block partial", "#I#4;0;0;070512;124010;a.jpg\r\n\r\n", false, 0, "", nil},
		{"snapshot block too large", "#I#65;0;0;070512;124010;a.jpg\r\n", false, 0, "", protocol.ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adv, frame, err := c.Split([]byte(tt.data), tt.atEOF)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if adv != tt.adv || string(frame) != tt.frame {
				t.Errorf("Split = %d, %q; want %d, %q", adv, frame, tt.adv, tt.frame)
			}
		})
	}
}

func TestCompressed(t *testing.T) {
	stream := append(compress(t, login11), compress(t, "#SD#"+sdBody)...) // v1.1: CR LF may be omitted
	o := run(t, &wialonips.Codec{}, protocol.TCP, string(stream))
	if o.Err != nil || string(o.Replies) != "#AL#1\r\n#ASD#1\r\n" || len(o.Messages) != 1 {
		t.Fatalf("err %v replies %q messages %d", o.Err, o.Replies, len(o.Messages))
	}
}

func TestCompressedBomb(t *testing.T) {
	// 10 MiB of zeros compress to about 10 KiB: far beyond the 1 MiB bound.
	bomb := compress(t, "#D#"+strings.Repeat("0", 10<<20))
	o := run(t, &wialonips.Codec{}, protocol.TCP, string(bomb))
	if !errors.Is(o.Err, protocol.ErrFrameTooLarge) {
		t.Fatalf("error %v, want ErrFrameTooLarge", o.Err)
	}
	o = run(t, &wialonips.Codec{}, protocol.UDP, string(bomb))
	if !errors.Is(o.Err, protocol.ErrFrameTooLarge) {
		t.Fatalf("udp: error %v, want ErrFrameTooLarge", o.Err)
	}
}

func TestCompressedCorrupt(t *testing.T) {
	good := compress(t, login11)
	for name, frame := range map[string][]byte{
		"bad header":   append([]byte{0xFF, 3, 0}, "abc"...),
		"bad adler":    append(append([]byte(nil), good[:len(good)-1]...), good[len(good)-1]^1),
		"short inside": append([]byte{0xFF, byte(len(good) - 6), 0}, good[3:len(good)-3]...),
	} {
		o := run(t, &wialonips.Codec{}, protocol.UDP, string(frame))
		if o.Err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestUDP(t *testing.T) {
	c := &wialonips.Codec{}
	v11 := "99999999#SD#" + sdBody + "\r\n"
	v20 := "2.0;99999999" + crc("D", dBody+";")
	o := run(t, c, protocol.UDP, v11, v20, string(compress(t, v11)))
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	if len(o.Messages) != 3 || o.Ident != "99999999" {
		t.Fatalf("%d messages, ident %q", len(o.Messages), o.Ident)
	}
	for i := range o.Messages {
		if o.Messages[i].Ident() != "99999999" {
			t.Errorf("message %d without ident: %s", i, o.Messages[i].String())
		}
	}
	if string(o.Replies) != "#ASD#1\r\n#AD#1\r\n#ASD#1\r\n" {
		t.Errorf("replies %q", o.Replies)
	}
	// A 2.0 datagram with a bad CRC is answered with the error code.
	o = run(t, c, protocol.UDP, "2.0;99999999#D#"+dBody+";0\r\n")
	if o.Err != nil || string(o.Replies) != "#AD#16\r\n" || len(o.Messages) != 0 {
		t.Errorf("err %v replies %q messages %d", o.Err, o.Replies, len(o.Messages))
	}
}

func TestMaxParams(t *testing.T) {
	c := &wialonips.Codec{MaxFrameSize: 1 << 20}
	// The same name 3000 times is one parameter.
	same := strings.TrimSuffix(strings.Repeat("p:1:1,", 3000), ",")
	if o := run(t, c, protocol.TCP, "#D#"+dWith(15, same)+"\r\n"); o.Err != nil || string(o.Replies) != "#AD#1\r\n" {
		t.Fatalf("same name repeated: err %v reply %q", o.Err, o.Replies)
	}
	// 3000 distinct parameters exceed the bound: error code 15, not
	// quadratic work.
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "p%d:1:%d,", i, i)
	}
	if o := run(t, c, protocol.TCP, "#D#"+dWith(15, b.String())+"\r\n"); o.Err != nil || string(o.Replies) != "#AD#15\r\n" {
		t.Fatalf("too many parameters: err %v reply %q", o.Err, o.Replies)
	}
}

func TestCommands(t *testing.T) {
	s11 := (&wialonips.Codec{}).NewSession(protocol.TCP)
	s20 := (&wialonips.Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	if err := s11.Decode([]byte(strings.TrimSpace(login11)), &r); err != nil {
		t.Fatal(err)
	}
	if err := s20.Decode([]byte(strings.TrimSpace(login20)), &r); err != nil {
		t.Fatal(err)
	}
	enc := func(s protocol.Session) protocol.CommandEncoder { return s.(protocol.CommandEncoder) }
	tests := []struct {
		s    protocol.Session
		cmd  protocol.Command
		want string
		err  error
	}{
		{s11, protocol.Command{Text: "hello"}, "#M#hello\r\n", nil},
		{s20, protocol.Command{Text: "hello"}, fmt.Sprintf("#M#hello;%04X\r\n", crc16.ARC.Checksum([]byte("hello;"))), nil},
		{s20, protocol.Command{Name: wialonips.CommandMessage, Text: "hi"}, fmt.Sprintf("#M#hi;%04X\r\n", crc16.ARC.Checksum([]byte("hi;"))), nil},
		{s20, protocol.Command{Name: wialonips.CommandCustom, Text: "getinfo"}, "getinfo\r\n", nil},
		{s20, protocol.Command{Name: wialonips.CommandSnapshot}, "#QI#\r\n", nil},
		{s20, protocol.Command{Name: wialonips.CommandTachograph, Text: "D1"}, "#QT#D1\r\n", nil},
		{s11, protocol.Command{Name: wialonips.CommandFirmware, Data: []byte("BIN")}, "#US#3\r\nBIN", nil},
		{s20, protocol.Command{Name: wialonips.CommandConfig, Data: []byte("cd")}, fmt.Sprintf("#UC#2;%04X\r\ncd", crc16.ARC.Checksum([]byte("cd"))), nil},
		{s20, protocol.Command{Text: "a\r\nb"}, "", wialonips.ErrCommandText},
		{s20, protocol.Command{Name: "reboot"}, "", wialonips.ErrUnknownCommand},
		{(&wialonips.Codec{}).NewSession(protocol.UDP), protocol.Command{Text: "x"}, "", protocol.ErrNoCommands},
	}
	for _, tt := range tests {
		got, err := enc(tt.s).EncodeCommand([]byte("prefix:"), tt.cmd)
		if !errors.Is(err, tt.err) {
			t.Errorf("%+v: error %v, want %v", tt.cmd, err, tt.err)
			continue
		}
		if err == nil && string(got) != "prefix:"+tt.want {
			t.Errorf("%+v: %q, want %q", tt.cmd, got, "prefix:"+tt.want)
		}
	}
}

// Decode must not retain the frame: the caller reuses it.
func TestFrameNotRetained(t *testing.T) {
	s := (&wialonips.Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	frames := []string{"#L#860000000000000;NA", "#D#" + dWith(14, "KEY1") + ",note:3:hello,x:3:a,b", "#M#call me"}
	for _, f := range frames {
		buf := []byte(f)
		if err := s.Decode(buf, &r); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = 'Z'
		}
	}
	var got []string
	for i := range r.Messages {
		got = append(got, r.Messages[i].String())
	}
	all := strings.Join(got, "\n")
	if strings.Contains(all, "ZZ") || !strings.Contains(all, `"custom.note":"hello"`) || !strings.Contains(all, `"custom.x":"a,b"`) ||
		!strings.Contains(all, `"ibutton.code":"KEY1"`) || !strings.Contains(all, `"driver.message":"call me"`) || r.Ident != "860000000000000" {
		t.Fatalf("messages changed with the frame or lost values:\n%s\nident %q", all, r.Ident)
	}
}
