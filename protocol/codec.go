package protocol

// Transport is how a session's bytes arrive.
type Transport uint8

const (
	// TCP: a byte stream, cut into frames by [Codec.Split] (or a session's
	// [Splitter]).
	TCP Transport = iota
	// UDP: each datagram is one frame, given to [Session.Decode] whole.
	UDP
)

func (t Transport) String() string {
	if t == UDP {
		return "udp"
	}
	return "tcp"
}

// ParseTransport parses "tcp" or "udp".
func ParseTransport(s string) (Transport, bool) {
	switch s {
	case "tcp":
		return TCP, true
	case "udp":
		return UDP, true
	}
	return TCP, false
}

// DefaultMaxFrameSize is the frame size limit of a codec whose MaxFrameSize
// is zero.
const DefaultMaxFrameSize = 64 << 10

// FrameLimit returns max, or [DefaultMaxFrameSize] when max is not positive.
func FrameLimit(max int) int {
	if max <= 0 {
		return DefaultMaxFrameSize
	}
	return max
}

// A Codec is one tracker protocol. It is safe for concurrent use: all
// per-connection state lives in the [Session]s it makes.
type Codec interface {
	// Name is the protocol's short name, e.g. "teltonika".
	Name() string
	// Split has the signature of bufio.SplitFunc and cuts a TCP byte stream
	// into frames. It returns (0, nil, nil) to ask for more data and an error
	// (usually a [*DecodeError] wrapping [ErrFrameTooLarge] or
	// [ErrMalformed]) when the stream cannot be framed; the connection is
	// then dropped. It never returns a frame longer than the codec's maximum
	// frame size.
	Split(data []byte, atEOF bool) (advance int, frame []byte, err error)
	// NewSession starts the state of one connection (TCP) or one remote
	// address (UDP).
	NewSession(t Transport) Session
}

// A Session decodes the frames of one connection in order: it remembers the
// login (ident), sequence numbers and whatever else the protocol carries
// between frames. A Session is not safe for concurrent use.
type Session interface {
	// Decode decodes one frame and appends what it finds to r. It must not
	// retain frame, which the caller reuses. On error, r may hold a partial
	// result that the caller discards; the caller decides whether to go on.
	//
	// Decode sets r.Reply to the exact bytes the device expects back (empty
	// when the protocol expects nothing). The caller sends the reply only
	// after the messages are stored: an acknowledged message is a durable one.
	Decode(frame []byte, r *Result) error
}

// Splitter is implemented by sessions whose framing depends on state, such as
// the login having been seen. When present it is used instead of
// [Codec.Split].
type Splitter interface {
	Split(data []byte, atEOF bool) (advance int, frame []byte, err error)
}

// Refuser is implemented by sessions of protocols that can tell a device it
// was refused (a rejected login, for instance Teltonika's 0x00 or Wialon
// IPS's "#AL#0"). A channel that closes a connection which sent data
// without identifying itself sends Refusal's bytes first; protocols with no
// such reply simply do not implement it.
type Refuser interface {
	Refusal() []byte
}

// CommandEncoder is implemented by sessions that can send commands to the
// device. EncodeCommand appends the command's wire form to dst.
type CommandEncoder interface {
	EncodeCommand(dst []byte, c Command) ([]byte, error)
}

// Command is a command for a device.
type Command struct {
	// ID correlates the device's answer with the command. Protocols that
	// carry an identifier on the wire (GT06's server flag) send it; others
	// answer in order and the caller correlates first-in, first-out.
	ID uint32
	// Name selects the protocol's kind of command; "" is the protocol's
	// default text command (Teltonika codec 12, GT06 0x80, Wialon #M#).
	Name string
	// Text is the command text, e.g. "getinfo".
	Text string
	// Data is a binary payload for protocols and command kinds that take one.
	Data []byte
}

// CommandResponse is a device's answer to a command.
type CommandResponse struct {
	ID        uint32 // the command's ID when the protocol carries it
	HasID     bool   // whether ID came from the wire
	Text      string // the answer as text, when it is text
	Data      []byte // the answer's raw bytes, when it is binary
	Timestamp float64
}

// Result is what decoding one frame produces. The caller reuses a Result
// across frames ([Result.Reset]) so that a steady stream of frames decodes
// without garbage beyond the strings that messages keep.
type Result struct {
	// Ident is the device identifier once the session knows it (after a
	// login frame, or from the frame itself); "" before that.
	Ident string
	// Messages decoded from the frame, in device order.
	Messages []Message
	// Responses are the device's answers to commands found in the frame.
	Responses []CommandResponse
	// Reply is the exact bytes to send back; empty for none.
	Reply []byte
	// Close asks the caller to close the connection after sending Reply
	// (e.g. a rejected login).
	Close bool
}

// Reset empties r and keeps its storage. The Ident is kept: it belongs to
// the connection.
func (r *Result) Reset() {
	for i := range r.Messages {
		r.Messages[i].Reset()
	}
	r.Messages = r.Messages[:0]
	clear(r.Responses)
	r.Responses = r.Responses[:0]
	r.Reply = r.Reply[:0]
	r.Close = false
}

// NewMessage appends an empty message to r and returns it for filling. It
// reuses the storage of messages from earlier frames. The pointer is valid
// until the next call to NewMessage or Reset.
func (r *Result) NewMessage() *Message {
	if len(r.Messages) < cap(r.Messages) {
		r.Messages = r.Messages[:len(r.Messages)+1]
		m := &r.Messages[len(r.Messages)-1]
		m.Reset()
		return m
	}
	r.Messages = append(r.Messages, Message{params: make([]Param, 0, 16)})
	return &r.Messages[len(r.Messages)-1]
}

// NewMessageFor is [Result.NewMessage] for the device ident: the message
// starts with [ParamIdent] when ident is known (not ""), with room for n
// more parameters when n > 0. Every codec's messages start this way.
func (r *Result) NewMessageFor(ident string, n int) *Message {
	m := r.NewMessage()
	if n > 0 {
		m.Grow(n)
	}
	if ident != "" {
		m.Add(ParamIdent, String(ident))
	}
	return m
}

// SetReply replaces r.Reply with b, reusing r's storage.
func (r *Result) SetReply(b []byte) { r.Reply = append(r.Reply[:0], b...) }
