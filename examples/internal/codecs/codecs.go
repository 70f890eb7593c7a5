// Package codecs maps protocol names to codecs for the example binaries.
// Wiring by name lives here, in examples, as an explicit map: the library
// itself has no global registry.
package codecs

import (
	"slices"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gps103"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/h02"
	"github.com/gnssgate/gnssgate/protocol/queclink"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/tk103"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// Options are the settings every codec takes.
type Options struct {
	Lenient      bool
	MaxFrameSize int
}

var constructors = map[string]func(Options) protocol.Codec{
	teltonika.Name: func(o Options) protocol.Codec {
		return &teltonika.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	gt06.Name: func(o Options) protocol.Codec {
		return &gt06.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	wialonips.Name: func(o Options) protocol.Codec {
		return &wialonips.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	gps103.Name: func(o Options) protocol.Codec {
		return &gps103.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	tk103.Name: func(o Options) protocol.Codec {
		return &tk103.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	h02.Name: func(o Options) protocol.Codec {
		return &h02.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	queclink.Name: func(o Options) protocol.Codec {
		return &queclink.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
}

// New returns the named codec.
func New(name string, o Options) (protocol.Codec, bool) {
	f, ok := constructors[name]
	if !ok {
		return nil, false
	}
	return f(o), true
}

// Names lists the protocols, sorted.
func Names() []string {
	names := make([]string, 0, len(constructors))
	for n := range constructors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
