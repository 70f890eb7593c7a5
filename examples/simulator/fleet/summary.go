package fleet

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/examples/internal/latency"
)

// Summary is what a run did. Its JSON form (the simulator's -json output)
// has the same fields in snake_case, with latencies in milliseconds.
type Summary struct {
	Protocol  string  `json:"protocol"`
	Transport string  `json:"transport"` // "tcp" or "udp"
	Addr      string  `json:"addr"`
	Devices   int     `json:"devices"`
	Rate      float64 `json:"rate"`    // packets per second per device, as configured
	Records   int     `json:"records"` // records per packet
	// Connected counts the devices that logged in at least once (over
	// UDP: that had a packet acknowledged).
	Connected int `json:"connected"`
	// Seconds is the run's wall time: ramp, duration and drain.
	Seconds float64 `json:"seconds"`

	// Generated counts the records devices made: every one was to be
	// delivered. Sent counts those written to the network at least once,
	// Acked those acknowledged, Unacked those never acknowledged
	// (Generated − Acked), whether sent or not.
	Generated int64 `json:"generated"`
	Sent      int64 `json:"sent"`
	Acked     int64 `json:"acked"`
	Unacked   int64 `json:"unacked"`
	// Packets and PacketsAcked count packets; Resent their
	// retransmissions (on a timeout or after reconnecting).
	Packets      int64 `json:"packets"`
	PacketsAcked int64 `json:"packets_acked"`
	Resent       int64 `json:"resent"`
	// Late counts the packets devices did not make because they were
	// still waiting for the ACK of the one before when these fell due:
	// the server is not keeping up with Rate.
	Late int64 `json:"late"`
	// Reconnects counts connections made after a device's first.
	Reconnects int64 `json:"reconnects"`
	// Errors counts failures by kind ("dial", "ack timeout", "login
	// rejected", "unexpected reply", "connection lost", …); FirstErrors
	// holds the first error of each kind.
	Errors      int64             `json:"errors"`
	ErrorKinds  map[string]int64  `json:"error_kinds,omitempty"`
	FirstErrors map[string]string `json:"first_errors,omitempty"`

	// MsgsPerSec is the records acknowledged per second while the whole
	// fleet was running (the Duration after the ramp): the sustained rate.
	// TargetMsgsPerSec is what Devices × Rate × Records asks for.
	MsgsPerSec       float64 `json:"msgs_per_sec"`
	TargetMsgsPerSec float64 `json:"target_msgs_per_sec"`
	// ACK latency of packets, from a packet's first transmission to its
	// acknowledgement.
	AckP50 time.Duration `json:"-"`
	AckP99 time.Duration `json:"-"`
	AckMax time.Duration `json:"-"`
}

// OK reports whether every record made was acknowledged and every device
// connected: the simulator exits 0 only then.
func (s *Summary) OK() bool {
	return s.Unacked == 0 && s.Connected == s.Devices && s.Generated > 0
}

// MarshalJSON writes the summary with latencies in milliseconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		AckP50 float64 `json:"ack_p50_ms"`
		AckP99 float64 `json:"ack_p99_ms"`
		AckMax float64 `json:"ack_max_ms"`
	}{plain(s), latency.Millis(s.AckP50), latency.Millis(s.AckP99), latency.Millis(s.AckMax)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(b []byte) error {
	type plain Summary
	var v struct {
		plain
		AckP50 float64 `json:"ack_p50_ms"`
		AckP99 float64 `json:"ack_p99_ms"`
		AckMax float64 `json:"ack_max_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Summary(v.plain)
	s.AckP50, s.AckP99, s.AckMax = fromMS(v.AckP50), fromMS(v.AckP99), fromMS(v.AckMax)
	return nil
}

func fromMS(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// WriteText writes the summary for people, a few lines.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %s to %s: %d devices (%d connected), %g packets/s × %d records each, %.1f s\n",
		s.Protocol, s.Transport, s.Addr, s.Devices, s.Connected, s.Rate, s.Records, s.Seconds)
	fmt.Fprintf(&b, "  records: generated %d, sent %d, acknowledged %d, never acknowledged %d\n",
		s.Generated, s.Sent, s.Acked, s.Unacked)
	fmt.Fprintf(&b, "  packets: %d, acknowledged %d, resent %d, late %d; reconnects %d; errors %d\n",
		s.Packets, s.PacketsAcked, s.Resent, s.Late, s.Reconnects, s.Errors)
	fmt.Fprintf(&b, "  sustained %.0f msgs/s (target %.0f); ACK latency p50 %s  p99 %s  max %s\n",
		s.MsgsPerSec, s.TargetMsgsPerSec, fmtLatency(s.AckP50), fmtLatency(s.AckP99), fmtLatency(s.AckMax))
	kinds := make([]string, 0, len(s.ErrorKinds))
	for k := range s.ErrorKinds {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return cmp.Compare(s.ErrorKinds[b], s.ErrorKinds[a]) })
	for _, k := range kinds {
		fmt.Fprintf(&b, "  error %q ×%d, first: %s\n", k, s.ErrorKinds[k], s.FirstErrors[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtLatency(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", latency.Millis(d))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", latency.Millis(d))
	}
	return d.Round(time.Second).String()
}
