// Package codecs maps protocol names to codecs for the example binaries.
// Wiring by name lives here, in examples, as an explicit map: the library
// itself has no global registry.
package codecs

import (
	"maps"
	"net/http"
	"slices"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/arnavi"
	"github.com/gnssgate/gnssgate/protocol/calamp"
	"github.com/gnssgate/gnssgate/protocol/egts"
	"github.com/gnssgate/gnssgate/protocol/galileosky"
	"github.com/gnssgate/gnssgate/protocol/gps103"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/h02"
	"github.com/gnssgate/gnssgate/protocol/jt808"
	"github.com/gnssgate/gnssgate/protocol/meitrack"
	"github.com/gnssgate/gnssgate/protocol/navtelecom"
	"github.com/gnssgate/gnssgate/protocol/osmand"
	"github.com/gnssgate/gnssgate/protocol/queclink"
	"github.com/gnssgate/gnssgate/protocol/ruptela"
	"github.com/gnssgate/gnssgate/protocol/suntech"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/tk103"
	"github.com/gnssgate/gnssgate/protocol/watch"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
	"github.com/gnssgate/gnssgate/protocol/wialonretranslator"
)

// Options are the settings every codec takes.
type Options struct {
	Lenient      bool
	MaxFrameSize int
}

var constructors = map[string]func(Options) protocol.Codec{
	arnavi.Name: func(o Options) protocol.Codec { return &arnavi.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	calamp.Name: func(o Options) protocol.Codec { return &calamp.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	egts.Name:   func(o Options) protocol.Codec { return &egts.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	galileosky.Name: func(o Options) protocol.Codec {
		return &galileosky.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	gt06.Name:  func(o Options) protocol.Codec { return &gt06.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	jt808.Name: func(o Options) protocol.Codec { return &jt808.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	meitrack.Name: func(o Options) protocol.Codec {
		return &meitrack.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	navtelecom.Name: func(o Options) protocol.Codec {
		return &navtelecom.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	ruptela.Name: func(o Options) protocol.Codec {
		return &ruptela.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	suntech.Name: func(o Options) protocol.Codec {
		return &suntech.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	teltonika.Name: func(o Options) protocol.Codec {
		return &teltonika.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	watch.Name: func(o Options) protocol.Codec { return &watch.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
	wialonips.Name: func(o Options) protocol.Codec {
		return &wialonips.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient}
	},
	// The protocol has no checksum or length quirk to be lenient about.
	wialonretranslator.Name: func(o Options) protocol.Codec {
		return &wialonretranslator.Codec{MaxFrameSize: o.MaxFrameSize}
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
func New(name string, o Options) (protocol.Codec, bool) { return build(constructors, name, o) }

// Names lists the protocols, sorted.
func Names() []string { return slices.Sorted(maps.Keys(constructors)) }

// HTTPDecoder turns one HTTP request of a protocol that devices speak over
// HTTP into messages (channel.RequestDecoder; channel.HTTP's Decoder).
// These protocols have no byte-stream framing: a gateway serves them on
// an HTTP listener, not a TCP channel.
type HTTPDecoder interface {
	DecodeRequest(r *http.Request, body []byte) ([]protocol.Message, error)
}

var httpDecoders = map[string]func(Options) HTTPDecoder{
	osmand.Name: func(o Options) HTTPDecoder { return &osmand.Codec{MaxFrameSize: o.MaxFrameSize, Lenient: o.Lenient} },
}

// NewHTTP returns the named HTTP protocol's request decoder.
func NewHTTP(name string, o Options) (HTTPDecoder, bool) { return build(httpDecoders, name, o) }

// HTTPNames lists the protocols served over HTTP, sorted.
func HTTPNames() []string { return slices.Sorted(maps.Keys(httpDecoders)) }

// build calls the constructor registered under name.
func build[T any](constructors map[string]func(Options) T, name string, o Options) (T, bool) {
	f, ok := constructors[name]
	if !ok {
		var none T
		return none, false
	}
	return f(o), true
}
