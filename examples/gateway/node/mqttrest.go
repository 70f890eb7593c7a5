package node

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/store/jetstream"
)

// REST over MQTT on an external bus (Config.Broker). The embedded broker
// hands flespi/rest/{method}/{uri} publishes to serveRESTOverMQTT with the
// token its client connected with; an external broker tells a subscriber
// nothing of who published, so there:
//
//   - the request carries its token in the user property "authorization"
//     (as in the HTTP header: "FlespiToken KEY", "Bearer KEY" or the bare
//     key) or "token"; without a valid one it is answered 401;
//   - every node subscribes to "$share/<deployment>-rest/flespi/rest/#"
//     (an MQTT 5 shared subscription), so the broker hands each request to
//     one node, which answers it from the shared registry and store like
//     any other;
//   - the answer goes to the request's Response Topic exactly as given (or
//     back to the request's topic without one), with its Correlation Data,
//     "http_code" and "cid" user properties, chunked on "response_chunked:
//     true" as on the embedded broker; "response_cid" publishes it under
//     that account's prefix ("$accounts/<cid>/"). Who may read the answer
//     is the external broker's ACL, not the gateway's.
//
// A node that dies stays in the group until its session on the broker
// expires, and a broker that queues shared messages for an offline member
// (Mosquitto does) leaves its share of the requests unanswered meanwhile:
// the client retries after its timeout, as over HTTP.
//
// Answers carry "http_code", requests never do: a node skips a message
// with it, so an answer published back on a request topic is not taken for
// a request.

const (
	restTopicPrefix = "flespi/rest/"
	// restChunk is a chunked answer's largest piece, as on the embedded
	// broker (flespi's 64 KiB).
	restChunk = 64 << 10
	// busRESTWorkers bounds the requests one node serves at once; more wait
	// in the broker's queue (back-pressure through broker/paho).
	busRESTWorkers = 16
	// busRESTTimeout bounds one request (a setting read may wait for its
	// device).
	busRESTTimeout = 5 * time.Minute
)

// busRESTFilter is the subscription of the nodes of one deployment: a
// shared group, so that each request is answered once.
func (n *Node) busRESTFilter() string {
	group := jetstream.DefaultName
	if c := n.cfg.Cluster; c != nil {
		group = c.prefix()
	}
	return "$share/" + group + "-rest/" + restTopicPrefix + "#"
}

// serveBusREST answers REST-over-MQTT requests on the external bus until
// ctx ends.
func (n *Node) serveBusREST(ctx context.Context) error {
	workers := make(chan struct{}, busRESTWorkers)
	var wg sync.WaitGroup
	defer wg.Wait()
	h := broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		if _, answer := m.Properties.UserProperty("http_code"); answer {
			return nil
		}
		select {
		case workers <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-workers; wg.Done() }()
			n.answerBusREST(ctx, m)
		}()
		return nil
	})
	filter := n.busRESTFilter()
	for {
		sub, err := n.Broker.Subscribe(ctx, filter, h)
		if err == nil {
			<-ctx.Done()
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			sub.Unsubscribe(uctx)
			cancel()
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		n.logger.Warn("REST over MQTT: subscription to the external broker failed; trying again", "filter", filter, "err", err)
		if !sleepCtx(ctx, leaseRetry) {
			return nil
		}
	}
}

// answerBusREST serves one request and publishes its answer.
func (n *Node) answerBusREST(ctx context.Context, m broker.Message) {
	method, uri, _ := strings.Cut(strings.TrimPrefix(m.Topic, restTopicPrefix), "/")
	req := embedded.RESTRequest{Method: strings.ToLower(method), URI: uri, Body: m.Payload, Properties: m.Properties.UserProperties}
	cred, ok := m.Properties.UserProperty("authorization")
	if !ok {
		cred, _ = m.Properties.UserProperty("token")
	}
	var resp embedded.RESTResponse
	if tok, ok := n.API.Token(cred); ok {
		rctx, cancel := context.WithTimeout(ctx, busRESTTimeout)
		resp = n.restAs(rctx, tok, req)
		cancel()
	} else {
		body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": http.StatusUnauthorized,
			"reason": `a valid token is required in the user property "authorization" (FlespiToken <token>)`}}})
		resp = embedded.RESTResponse{Status: http.StatusUnauthorized, Body: body}
	}
	topic := m.Properties.ResponseTopic
	if topic == "" {
		topic = m.Topic
	}
	topic = resp.Namespace + topic
	size := len(resp.Body) + 1 // one message
	for _, p := range m.Properties.UserProperties {
		if p.Key == "response_chunked" && p.Value == "true" {
			size = restChunk
		}
	}
	body := resp.Body
	for {
		k := min(len(body), size)
		last := k == len(body)
		props := broker.Properties{CorrelationData: m.Properties.CorrelationData, ContentType: "application/json",
			UserProperties: append([]broker.UserProperty(nil), resp.Properties...)}
		if last {
			props.UserProperties = append(props.UserProperties, broker.UserProperty{Key: "http_code", Value: strconv.Itoa(resp.Status)})
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := n.Broker.Publish(pctx, broker.Message{Topic: topic, Payload: body[:k], QoS: 1, Properties: props})
		cancel()
		if err != nil {
			n.logger.Warn("REST over MQTT: answer not published", "topic", topic, "err", err)
			return
		}
		if last {
			return
		}
		body = body[k:]
	}
}
