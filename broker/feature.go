package broker

// Feature names an optional ability of a Broker that brokertest checks only
// when the broker has it.
type Feature string

// The optional features. A Broker that does not implement [FeatureReporter]
// is assumed to have them all.
const (
	// FeatureFilterSpec: "$filter/<spec>/" predicates.
	FeatureFilterSpec Feature = "$filter"
	// FeatureStickyShare: flespi sticky shared groups ("$share/name:count/").
	FeatureStickyShare Feature = "sticky-share"
	// FeatureRedelivery: a handler error on a QoS 1 message makes the broker
	// deliver the message again.
	FeatureRedelivery Feature = "redelivery"
	// FeatureProperties: MQTT 5 properties survive the round trip.
	FeatureProperties Feature = "properties"
)

// FeatureReporter is an optional interface of a Broker that lacks some
// features, so that callers and brokertest can tell before trying.
type FeatureReporter interface {
	Supports(f Feature) bool
}

// Supports reports whether b has feature f: b.Supports(f) when b implements
// FeatureReporter, true otherwise.
func Supports(b Broker, f Feature) bool {
	if r, ok := b.(FeatureReporter); ok {
		return r.Supports(f)
	}
	return true
}
