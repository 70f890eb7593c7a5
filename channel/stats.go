package channel

import "sync/atomic"

// Stats is a snapshot of a server's counters, for a metrics exporter.
// Counters only grow; Conns and QueuedCommands are current values.
type Stats struct {
	Conns             int    // open TCP connections plus live UDP sessions
	ConnsTotal        uint64 // connections and UDP sessions ever accepted
	ConnsRejected     uint64 // refused because of MaxConns
	IdleClosed        uint64 // closed by IdleTimeout
	ReadTimeouts      uint64 // closed because a frame did not complete within ReadTimeout
	LoginTimeouts     uint64 // closed (or UDP sessions ended) because no ident came within LoginTimeout
	Unidentified      uint64 // frames refused because their messages had no ident: TCP connection closed, UDP datagram dropped
	BytesIn           uint64
	BytesOut          uint64
	FramesIn          uint64 // frames (TCP) and datagrams (UDP) the codec decoded
	MessagesIn        uint64 // decoded and given to the handler
	MessagesAcked     uint64 // accepted by the handler (replies sent for them)
	HandlerErrors     uint64 // handler calls that returned an error (no ACK sent)
	DecodeErrors      uint64 // frames the codec rejected
	Panics            uint64 // recovered panics in a codec or handler
	DatagramsDropped  uint64 // UDP datagrams dropped: too large, session full or over MaxConns
	CommandsQueued    uint64
	CommandsSent      uint64
	CommandsAnswered  uint64
	CommandsExpired   uint64
	CommandsUnmatched uint64 // answers that matched no pending command
	QueuedCommands    int    // commands waiting for their device now
	RecordErrors      uint64 // failures to open or write a traffic recording

	// Proxy channels ([Proxy]):
	UpstreamFrames   uint64 // frames written to upstreams (replays included)
	UpstreamReplayed uint64 // frames replayed to an upstream that (re)connected: a login, or frames held while it was down
	UpstreamDropped  uint64 // frames an upstream never got: its backlog overflowed, or the device left first
	UpstreamConnects uint64 // connections made to upstreams
	UpstreamFailures uint64 // failed attempts and lost upstream connections
	UpstreamRelayed  uint64 // bytes of the upstreams' answers and commands relayed to devices
}

type counters struct {
	connsTotal, connsRejected, idleClosed, readTimeouts atomic.Uint64
	loginTimeouts, unidentified                         atomic.Uint64
	bytesIn, bytesOut, framesIn                         atomic.Uint64
	messagesIn, messagesAcked                           atomic.Uint64
	handlerErrors, decodeErrors, panics                 atomic.Uint64
	datagramsDropped                                    atomic.Uint64
	commandsQueued, commandsSent, commandsAnswered      atomic.Uint64
	commandsExpired, commandsUnmatched                  atomic.Uint64
	recordErrors                                        atomic.Uint64
	proxyFrames, proxyReplayed, proxyDropped            atomic.Uint64
	proxyConnects, proxyFailures, proxyRelayed          atomic.Uint64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	conns := len(s.conns)
	queued := 0
	for _, q := range s.queues {
		queued += len(q)
	}
	s.mu.Unlock()
	c := &s.stats
	return Stats{
		Conns: conns, ConnsTotal: c.connsTotal.Load(), ConnsRejected: c.connsRejected.Load(),
		IdleClosed: c.idleClosed.Load(), ReadTimeouts: c.readTimeouts.Load(),
		LoginTimeouts: c.loginTimeouts.Load(), Unidentified: c.unidentified.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		FramesIn: c.framesIn.Load(), MessagesIn: c.messagesIn.Load(), MessagesAcked: c.messagesAcked.Load(),
		HandlerErrors: c.handlerErrors.Load(), DecodeErrors: c.decodeErrors.Load(), Panics: c.panics.Load(),
		DatagramsDropped: c.datagramsDropped.Load(),
		CommandsQueued:   c.commandsQueued.Load(), CommandsSent: c.commandsSent.Load(),
		CommandsAnswered: c.commandsAnswered.Load(), CommandsExpired: c.commandsExpired.Load(),
		CommandsUnmatched: c.commandsUnmatched.Load(), QueuedCommands: queued,
		RecordErrors:   c.recordErrors.Load(),
		UpstreamFrames: c.proxyFrames.Load(), UpstreamReplayed: c.proxyReplayed.Load(), UpstreamDropped: c.proxyDropped.Load(),
		UpstreamConnects: c.proxyConnects.Load(), UpstreamFailures: c.proxyFailures.Load(), UpstreamRelayed: c.proxyRelayed.Load(),
	}
}
