// Package testenv gives tests the addresses of the real services they talk
// to. Each address comes from an environment variable; when it is unset the
// test is skipped with a message naming the variable, unless
// GNSSGATE_REQUIRE_SERVICES=1 (as .ci/run sets), where a missing or
// unreachable service fails the test.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// The environment variables, with the values that match this project's CI
// machine.
const (
	MQTTEnv     = "GNSSGATE_MQTT_ADDR"    // 127.0.0.1:1883 (Mosquitto)
	NATSEnv     = "GNSSGATE_NATS_URL"     // nats://127.0.0.1:4222 (JetStream enabled)
	AMQPEnv     = "GNSSGATE_AMQP_URL"     // amqp://guest:guest@127.0.0.1:5672/
	RedisEnv    = "GNSSGATE_REDIS_ADDR"   // 127.0.0.1:6379
	PostgresEnv = "GNSSGATE_POSTGRES_URL" // postgres://postgres@127.0.0.1:5432/test
	RequireEnv  = "GNSSGATE_REQUIRE_SERVICES"
)

// Required reports whether missing services fail tests instead of skipping.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// MQTTAddr returns the host:port of an external MQTT broker.
func MQTTAddr(t testing.TB) string { return need(t, MQTTEnv, "MQTT broker") }

// NATSURL returns the URL of a NATS server with JetStream.
func NATSURL(t testing.TB) string { return need(t, NATSEnv, "NATS server") }

// AMQPURL returns the URL of an AMQP 0-9-1 broker.
func AMQPURL(t testing.TB) string { return need(t, AMQPEnv, "AMQP broker") }

// RedisAddr returns the host:port of a Redis server.
func RedisAddr(t testing.TB) string { return need(t, RedisEnv, "Redis server") }

// PostgresURL returns a PostgreSQL connection URL.
func PostgresURL(t testing.TB) string { return need(t, PostgresEnv, "PostgreSQL server") }

func need(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if Required() {
			t.Fatalf("%s=1 but %s is not set: the %s is required", RequireEnv, env, what)
		}
		t.Skipf("skipping: set %s to the address of a %s to run this test", env, what)
	}
	host := v
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host = u.Host
	}
	c, err := net.DialTimeout("tcp", host, 3*time.Second)
	if err != nil {
		if Required() {
			t.Fatalf("%s=%s: %s unreachable: %v", env, v, what, err)
		}
		t.Skipf("skipping: %s=%s: %s unreachable: %v", env, v, what, err)
	}
	c.Close()
	return v
}
