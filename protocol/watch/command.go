package watch

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/gnssgate/gnssgate/protocol"
)

// Command kinds ([protocol.Command.Name]).
const (
	// CommandText (the default, "") sends Command.Text as the frame's
	// content: "CR" (locate now), "UPLOAD,600" (report interval),
	// "SOS1,<number>", "RESET", "POWEROFF", "LZ,<language>,<time zone>", …
	CommandText = "text"
	// CommandMessage shows Command.Text on the watch: "MESSAGE," and the
	// text in UTF-16BE hex.
	CommandMessage = "message"
	// CommandVoice plays Command.Data (AMR audio) on the watch: "TK," and
	// the escaped data.
	CommandVoice = "voice"
)

// Errors of command encoding.
var (
	// ErrNoID: commands carry the watch's ID, and the session has not seen
	// a frame from it yet.
	ErrNoID = errors.New("watch: device ID not known yet")
	// ErrCommandText: an empty command, one longer than a frame's 16-bit
	// length allows, or text holding '[' or ']'.
	ErrCommandText = errors.New("watch: bad command text")
)

// EncodeCommand appends a command frame to dst: "[MAKER*ID*[INDEX*]LEN*content]",
// with the maker code the watch uses ("SG" for watches that say "3G", as
// open decoders send) and an index when its frames carry one. The watch
// answers by echoing the command's keyword ("[SG*…*0002*CR]"); that answer
// gets the command's ID (HasID), first come first served among commands
// with the same keyword.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if s.ident == "" {
		return dst, ErrNoID
	}
	var content []byte
	switch c.Name {
	case "", CommandText:
		if c.Text == "" || strings.ContainsAny(c.Text, "[]") {
			return dst, ErrCommandText
		}
		content = []byte(c.Text)
	case CommandMessage:
		content = append(content, "MESSAGE,"...)
		for _, u := range utf16.Encode([]rune(c.Text)) {
			content = append(content, upperHex[u>>12], upperHex[u>>8&15], upperHex[u>>4&15], upperHex[u&15])
		}
	case CommandVoice:
		if len(c.Data) == 0 {
			return dst, ErrCommandText
		}
		content = escape(append(content, "TK,"...), c.Data)
	default:
		return dst, fmt.Errorf("%w: watch command %q (text, message or voice)", protocol.ErrUnsupported, c.Name)
	}
	if len(content) > 0xffff {
		return dst, ErrCommandText
	}
	maker := s.maker
	if maker == "3G" {
		maker = "SG"
	}
	var index []byte
	if s.index {
		s.nextIndex = s.nextIndex%0xffff + 1
		index = []byte{upperHex[s.nextIndex>>12], upperHex[s.nextIndex>>8&15], upperHex[s.nextIndex>>4&15], upperHex[s.nextIndex&15]}
	}
	keyword, _, _ := strings.Cut(string(content), ",")
	if len(s.pending) == maxPending {
		s.pending = append(s.pending[:0], s.pending[1:]...)
	}
	s.pending = append(s.pending, pendingCommand{keyword: keyword, id: c.ID})
	return appendFrame(dst, []byte(maker), []byte(s.ident), index, content), nil
}
