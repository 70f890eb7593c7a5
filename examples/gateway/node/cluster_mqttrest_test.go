package node_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// TestClusterRESTOverExternalMQTT: two gateway nodes share one NATS
// JetStream and one external MQTT broker (the Mosquitto of
// GNSSGATE_MQTT_ADDR) as their bus. REST-over-MQTT requests published to
// that broker are answered once each (the nodes' shared subscription), on
// the response topic with the correlation data and http_code; the token
// travels in the "authorization" user property, and a request without a
// valid one is answered 401. An object created over MQTT is seen through
// either node's HTTP API, and an answer published back on the request's
// own topic is not taken for a request.
func TestClusterRESTOverExternalMQTT(t *testing.T) {
	natsURL := testenv.NATSURL(t)
	addr := testenv.MQTTAddr(t)
	name := fmt.Sprintf("gwr%d", time.Now().UnixNano())
	destroyCluster(t, natsURL, name)
	nodes := startBusCluster(t, natsURL, addr, name, "a", "b")
	client, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	answers := fmt.Sprintf("gnssgate-test/rest-answers/%s", name)
	var got collector
	if _, err := client.Subscribe(context.Background(), answers+"/#", got.handler()); err != nil {
		t.Fatal(err)
	}
	// Both nodes' subscriptions are made as they start; give them a moment,
	// so that a request reaching both would be answered twice.
	time.Sleep(time.Second)
	ask := func(topic, rt, corr, auth string, body []byte) {
		t.Helper()
		props := broker.Properties{ResponseTopic: rt, CorrelationData: []byte(corr)}
		if auth != "" {
			props.UserProperties = []broker.UserProperty{{Key: "authorization", Value: auth}}
		}
		if err := client.Publish(context.Background(), broker.Message{Topic: topic, Payload: body, QoS: 1, Properties: props}); err != nil {
			t.Fatal(err)
		}
	}
	const requests = 20
	for i := range requests {
		ask("flespi/rest/get/gw/channels/all", answers+"/list", strconv.Itoa(i), "FlespiToken "+master, nil)
	}
	ask("flespi/rest/get/gw/channels/all", answers+"/denied", "none", "", nil)
	ask("flespi/rest/get/gw/channels/all", answers+"/denied", "bad", "FlespiToken not-a-token", nil)
	ask("flespi/rest/post/gw/devices", answers+"/create", "create", master,
		[]byte(`[{"name":"over-mqtt","configuration":{"ident":"rest-over-mqtt-1"}}]`))
	waitFor(t, "every answer", func() bool { return len(got.messages()) >= requests+3 })
	time.Sleep(time.Second) // a second answer to any request would be here by now

	seen := map[string]int{}
	for _, m := range got.messages() {
		corr := string(m.Properties.CorrelationData)
		seen[corr]++
		code, _ := m.Properties.UserProperty("http_code")
		switch {
		case strings.HasSuffix(m.Topic, "/list"):
			if code != "200" || !strings.Contains(string(m.Payload), `"teltonika"`) {
				t.Errorf("answer %s: %s %s", corr, code, m.Payload)
			}
			if cid, _ := m.Properties.UserProperty("cid"); cid != "1" {
				t.Errorf("answer %s: cid %q, want 1", corr, cid)
			}
		case strings.HasSuffix(m.Topic, "/denied"):
			if code != "401" {
				t.Errorf("request %s without a valid token: %s %s", corr, code, m.Payload)
			}
		case strings.HasSuffix(m.Topic, "/create"):
			if code != "200" || !strings.Contains(string(m.Payload), `"rest-over-mqtt-1"`) {
				t.Errorf("device created over MQTT: %s %s", code, m.Payload)
			}
		default:
			t.Errorf("answer on %s", m.Topic)
		}
	}
	for _, corr := range append([]string{"none", "bad", "create"}, func() (s []string) {
		for i := range requests {
			s = append(s, strconv.Itoa(i))
		}
		return
	}()...) {
		if seen[corr] != 1 {
			t.Errorf("request %q answered %d times, want once", corr, seen[corr])
		}
	}
	for _, g := range nodes {
		_, out := g.rest("GET", "/gw/devices/configuration.ident=rest-over-mqtt-1", nil)
		if len(results(t, out)) != 1 {
			t.Errorf("a node's HTTP API does not see the device created over MQTT: %v", out)
		}
	}

	// Without a response topic the answer goes back on the request's
	// topic, once: the nodes skip what carries http_code.
	echo := "flespi/rest/get/gw/channels/1"
	var back collector
	if _, err := client.Subscribe(context.Background(), echo, back.handler()); err != nil {
		t.Fatal(err)
	}
	ask(echo, "", "echo", master, nil)
	waitFor(t, "the answer on the request's topic", func() bool {
		for _, m := range back.messages() {
			if _, ok := m.Properties.UserProperty("http_code"); ok {
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second)
	answered := 0
	for _, m := range back.messages() {
		if code, ok := m.Properties.UserProperty("http_code"); ok {
			answered++
			if code != "200" {
				t.Errorf("answer on the request's topic: %s %s", code, m.Payload)
			}
		}
	}
	if answered != 1 {
		t.Errorf("answered %d times on the request's topic, want once", answered)
	}
}

// startBusCluster starts gateway nodes of deployment name on the NATS
// server at natsURL, each with the MQTT broker at addr as its bus.
func startBusCluster(t *testing.T, natsURL, addr, name string, nodeNames ...string) []*gateway {
	t.Helper()
	rc := newReceiver(t)
	var nodes []*gateway
	for _, nn := range nodeNames {
		bus, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + addr, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Close() }) // after the node stops
		cfg := joinCluster(t, natsURL, name, nn, rc)
		cfg.Broker = bus
		nodes = append(nodes, start(t, cfg))
	}
	return nodes
}
