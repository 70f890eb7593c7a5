package deviceapi

import (
	"strconv"
	"strings"
)

// ThingsBoard's device API topics, as a device sees them (source:
// ThingsBoard MqttTopics.java; the "p" protobuf forms are not served).
const (
	TopicTelemetry         = "v1/devices/me/telemetry"
	TopicAttributes        = "v1/devices/me/attributes"
	TopicAttributesRequest = "v1/devices/me/attributes/request/"  // + request id
	TopicAttributesReply   = "v1/devices/me/attributes/response/" // + request id
	TopicRPCRequest        = "v1/devices/me/rpc/request/"         // + request id
	TopicRPCResponse       = "v1/devices/me/rpc/response/"        // + request id
	TopicClaim             = "v1/devices/me/claim"

	TopicTelemetryShort     = "v2/t"
	TopicTelemetryShortJSON = "v2/t/j"
	TopicAttributesShort    = "v2/a"
	TopicAttributesShortJ   = "v2/a/j"
	TopicAttrRequestShort   = "v2/a/req/"   // + request id
	TopicAttrRequestShortJ  = "v2/a/req/j/" // + request id
	TopicAttrReplyShort     = "v2/a/res/"   // + request id
	TopicAttrReplyShortJ    = "v2/a/res/j/" // + request id
	TopicRPCRequestShort    = "v2/r/req/"   // + request id
	TopicRPCRequestShortJ   = "v2/r/req/j/" // + request id
	TopicRPCResponseShort   = "v2/r/res/"   // + request id
	TopicRPCResponseShortJ  = "v2/r/res/j/" // + request id

	TopicProvision         = "/provision"
	TopicProvisionRequest  = "/provision/request"
	TopicProvisionResponse = "/provision/response"

	TopicGatewayConnect       = "v1/gateway/connect"
	TopicGatewayDisconnect    = "v1/gateway/disconnect"
	TopicGatewayTelemetry     = "v1/gateway/telemetry"
	TopicGatewayAttributes    = "v1/gateway/attributes"
	TopicGatewayAttrRequest   = "v1/gateway/attributes/request"
	TopicGatewayAttrResponse  = "v1/gateway/attributes/response"
	TopicGatewayRPC           = "v1/gateway/rpc"
	TopicGatewayClaim         = "v1/gateway/claim"
	topicGatewayPrefix        = "v1/gateway/"
	topicDevicePrefix         = "v1/devices/me/"
	topicOTAPrefix            = "v2/"
	provisionUser             = "provision"
	maxRequestID              = 1<<31 - 1
	defaultProvisionNamespace = "$provision/"
)

// deviceSubscriptions are the filters a device may subscribe to: the
// device API's downlink topics, in every form (ThingsBoard's
// MqttTransportHandler.processSubscribe).
var deviceSubscriptions = []string{
	TopicAttributes, TopicAttributesShort, TopicAttributesShortJ,
	TopicAttributesReply + "+", TopicAttrReplyShort + "+", TopicAttrReplyShortJ + "+",
	TopicRPCRequest + "+", TopicRPCRequestShort + "+", TopicRPCRequestShortJ + "+",
	TopicRPCResponse + "+", TopicRPCResponseShort + "+", TopicRPCResponseShortJ + "+",
	"v2/fw/response/+/chunk/+", "v2/fw/error", "v2/sw/response/+/chunk/+", "v2/sw/error",
}

// gatewaySubscriptions are added for gateway devices.
var gatewaySubscriptions = []string{TopicGatewayAttributes, TopicGatewayRPC, TopicGatewayAttrResponse}

// downlinkForms are the topics a device may have subscribed to for one
// kind of server-initiated message: the server publishes to each, and a
// device receives the one it chose.
var (
	attributeUpdateTopics = []string{TopicAttributes, TopicAttributesShort, TopicAttributesShortJ}
	rpcRequestTopics      = []string{TopicRPCRequest, TopicRPCRequestShort, TopicRPCRequestShortJ}
)

// requestTopic pairs a request topic prefix with the prefix its answer is
// published under.
type requestTopic struct{ request, reply string }

// Longest prefixes first: "v2/a/req/j/5" must not be taken for request
// id "j/5" of "v2/a/req/".
var (
	attrRequestTopics = []requestTopic{
		{TopicAttributesRequest, TopicAttributesReply},
		{TopicAttrRequestShortJ, TopicAttrReplyShortJ},
		{TopicAttrRequestShort, TopicAttrReplyShort},
	}
	clientRPCTopics = []requestTopic{
		{TopicRPCRequest, TopicRPCResponse},
		{TopicRPCRequestShortJ, TopicRPCResponseShortJ},
		{TopicRPCRequestShort, TopicRPCResponseShort},
	}
	rpcResponsePrefixes = []string{TopicRPCResponse, TopicRPCResponseShortJ, TopicRPCResponseShort}
)

// matchRequest finds the request form of topic among forms and returns it
// with the rest of the topic (the request id).
func matchRequest(topic string, forms []requestTopic) (requestTopic, string, bool) {
	for _, f := range forms {
		if rest, ok := strings.CutPrefix(topic, f.request); ok {
			return f, rest, true
		}
	}
	return requestTopic{}, "", false
}

// parseRequestID parses the request id of a topic: decimal digits, at most
// 2^31-1 (ThingsBoard parses it with Integer.parseInt).
func parseRequestID(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxRequestID {
		return 0, false
	}
	return n, true
}

// otaRequest parses "v2/{fw|sw}/request/{requestId}/chunk/{chunk}". ok is
// false when topic is not an OTA request; valid is false when it is one
// with an id or chunk that is not a number.
func otaRequest(topic string) (kind PackageKind, requestID string, chunk int, ok, valid bool) {
	rest, found := strings.CutPrefix(topic, topicOTAPrefix)
	if !found {
		return 0, "", 0, false, false
	}
	var k string
	k, rest, found = strings.Cut(rest, "/")
	switch {
	case !found:
		return 0, "", 0, false, false
	case k == "fw":
		kind = Firmware
	case k == "sw":
		kind = Software
	default:
		return 0, "", 0, false, false
	}
	rest, found = strings.CutPrefix(rest, "request/")
	if !found {
		return 0, "", 0, false, false
	}
	id, rest, found := strings.Cut(rest, "/chunk/")
	if !found {
		return kind, "", 0, true, false
	}
	if _, okID := parseRequestID(id); !okID {
		return kind, "", 0, true, false
	}
	n, okChunk := parseRequestID(rest)
	if !okChunk {
		return kind, "", 0, true, false
	}
	return kind, id, n, true, true
}
