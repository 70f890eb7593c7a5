package fleet

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// Errors of [Run] for a Config it cannot run.
var (
	ErrConfig    = errors.New("fleet: bad configuration")
	ErrFileLimit = errors.New("fleet: more devices than this process may open sockets")
)

// DefaultPorts are the ports the gateway listens on for each protocol, used
// when Config.Addr is empty.
var DefaultPorts = map[string]int{device.Teltonika: 5027, device.GT06: 5023, device.WialonIPS: 5039}

// DefaultIdentBase is the IMEI body of device 0 when Config.IdentBase is 0:
// device i is [device.IMEI](DefaultIdentBase + i).
const DefaultIdentBase = 35_000_000_000_000

// Config describes a simulated fleet. The zero value is one Teltonika device
// on 127.0.0.1:5027 sending a record a second for ten seconds; each field
// documents its default.
type Config struct {
	// Protocol is "teltonika" (the default), "gt06" or "wialon-ips".
	Protocol string
	// Addr is the server's host:port; "" means 127.0.0.1 and the
	// protocol's port in [DefaultPorts].
	Addr string
	// UDP sends over UDP (Teltonika and Wialon IPS); the default is TCP.
	UDP bool
	// Packet is the packet kind ([device.Options].Packet): "" is the
	// protocol's default.
	Packet string
	// Password is the Wialon IPS login password; "" sends NA.
	Password string

	// Devices is the number of devices, each with its own connection and
	// IMEI; 0 means 1.
	Devices int
	// Rate is packets per second per device; 0 means 1.
	Rate float64
	// Records is the records per packet, spread evenly over the time
	// between packets (a device that logs 10 points a second and sends
	// them once a second has Rate 1, Records 10); 0 means 1.
	Records int
	// Ramp spreads the devices' starts (connection, login, first packet)
	// evenly over this time, so that thousands of devices do not connect
	// in one burst; 0 means a millisecond per device but at least the
	// time between two packets, so that the fleet's packets are spread
	// over it; negative means all at once.
	Ramp time.Duration
	// Duration is how long the whole fleet sends once every device has
	// started; 0 means 10 s. A run takes Ramp + Duration, then up to Drain.
	Duration time.Duration

	// AckTimeout is how long a device waits for a reply (to its login,
	// to a packet) before sending again; 0 means 5 s.
	AckTimeout time.Duration
	// Retries is how many times a device resends an unacknowledged
	// packet (or login) on one connection before it closes the
	// connection, reconnects and sends it again; 0 means 2, negative
	// means none.
	Retries int
	// ReconnectDelay is the pause before reconnecting (with ±50 %
	// jitter); 0 means 1 s.
	ReconnectDelay time.Duration
	// Drain is how long, once Duration is over, devices keep trying to
	// have their last packet acknowledged; 0 means (Retries+1) ×
	// AckTimeout. What is not acknowledged by then counts as never
	// acknowledged.
	Drain time.Duration

	// IdentBase numbers the IMEIs: device i is device.IMEI(IdentBase+i),
	// a valid 15-digit IMEI; 0 means [DefaultIdentBase].
	IdentBase uint64
	// Seed makes the routes and everything the devices report
	// deterministic: the same seed gives the same tracks.
	Seed uint64
	// Area is where the vehicles drive; the zero Area is 15 km round
	// Vilnius.
	Area device.Area

	// Progress, when set, gets a progress line every ProgressInterval
	// (rewritten in place on a terminal).
	Progress io.Writer
	// ProgressInterval is the time between progress lines; 0 means 1 s.
	ProgressInterval time.Duration
	// OnAck, when set, is called for every acknowledged packet, from the
	// device's goroutine or event loop: calls for different devices may
	// run concurrently. It must not block for long (in an event loop it
	// holds up the loop's other devices); the Ack is valid only during
	// the call.
	OnAck func(Ack)
	// Logger gets each device error at debug level; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Ack is one acknowledged packet, given to Config.OnAck.
type Ack struct {
	Device  int            // 0 to Devices-1
	Ident   string         // the device's IMEI
	Points  []device.Point // the records the packet carried, in order
	Sends   int            // transmissions it took (1 when the first was acknowledged)
	Latency time.Duration  // from its first transmission to the ACK
}

// resolved is a Config with its defaults applied and checked.
type resolved struct {
	Config
	network  string
	period   time.Duration
	opts     device.Options
	logger   *slog.Logger
	interval time.Duration
}

func (c Config) resolve() (*resolved, error) {
	r := &resolved{Config: c}
	if r.Protocol == "" {
		r.Protocol = device.Teltonika
	}
	port, ok := DefaultPorts[r.Protocol]
	if !ok {
		return nil, fmt.Errorf("%w: unknown protocol %q (teltonika, gt06, wialon-ips)", ErrConfig, r.Protocol)
	}
	if r.Addr == "" {
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	if _, _, err := net.SplitHostPort(r.Addr); err != nil {
		return nil, fmt.Errorf("%w: address %q: %v", ErrConfig, r.Addr, err)
	}
	r.network = "tcp"
	if r.UDP {
		r.network = "udp"
	}
	r.opts = device.Options{UDP: r.UDP, Packet: r.Packet, Password: r.Password}
	if r.Devices == 0 {
		r.Devices = 1
	}
	if r.Rate == 0 {
		r.Rate = 1
	}
	if r.Records == 0 {
		r.Records = 1
	}
	if r.Duration == 0 {
		r.Duration = 10 * time.Second
	}
	if r.AckTimeout == 0 {
		r.AckTimeout = 5 * time.Second
	}
	if r.Retries == 0 {
		r.Retries = 2
	} else if r.Retries < 0 {
		r.Retries = 0
	}
	if r.ReconnectDelay == 0 {
		r.ReconnectDelay = time.Second
	}
	if r.IdentBase == 0 {
		r.IdentBase = DefaultIdentBase
	}
	switch {
	case r.Devices < 0 || r.Records < 0:
		return nil, fmt.Errorf("%w: devices and records must be positive", ErrConfig)
	case r.Rate < 0 || math.IsNaN(r.Rate) || math.IsInf(r.Rate, 0) || r.Rate > 1000:
		return nil, fmt.Errorf("%w: rate %v (packets a second per device, up to 1000)", ErrConfig, r.Rate)
	case r.Duration < 0 || r.AckTimeout < 0 || r.ReconnectDelay < 0 || r.Drain < 0:
		return nil, fmt.Errorf("%w: durations must not be negative", ErrConfig)
	case r.IdentBase+uint64(r.Devices)-1 > device.MaxIMEIBody:
		return nil, fmt.Errorf("%w: ident base %d + %d devices runs past 14 digits", ErrConfig, r.IdentBase, r.Devices)
	}
	r.period = time.Duration(float64(time.Second) / r.Rate)
	if r.Ramp == 0 {
		r.Ramp = max(time.Duration(r.Devices)*time.Millisecond, r.period)
	} else if r.Ramp < 0 {
		r.Ramp = 0
	}
	if r.Drain == 0 {
		r.Drain = time.Duration(r.Retries+1) * r.AckTimeout
	}
	r.interval = r.ProgressInterval
	if r.interval <= 0 {
		r.interval = time.Second
	}
	r.logger = r.Logger
	if r.logger == nil {
		r.logger = slog.Default()
	}
	// One session tells whether the protocol, transport, packet kind and
	// record count fit together.
	s, err := device.New(r.Protocol, device.IMEI(r.IdentBase), r.opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if r.Records > s.MaxRecords() {
		return nil, fmt.Errorf("%w: %d records per packet; %s carries at most %d", ErrConfig, r.Records, r.Protocol, s.MaxRecords())
	}
	return r, nil
}

// transport names the transport for the summary.
func (r *resolved) transport() string { return r.network }
