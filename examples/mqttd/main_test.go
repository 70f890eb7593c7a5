package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestRunServesAndStops(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	os.WriteFile(tokens, []byte("# test\nsecret dev/# dev/#\n"), 0o600)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, []string{"-addr", addr, "-tokens", tokens, "-paho"}, &stderr) }()
	var nc net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if nc, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	// MQTT 3.1.1 CONNECT, anonymous (allowed by -paho).
	nc.Write([]byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 0})
	buf := make([]byte, 4)
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := nc.Read(buf); err != nil || !bytes.Equal(buf, []byte{0x20, 2, 0, 0}) {
		t.Fatalf("CONNACK % x, %v", buf, err)
	}
	// SUBSCRIBE test/nosubscribe → 0x80.
	nc.Write([]byte{0x82, 21, 0, 1, 0, 16, 't', 'e', 's', 't', '/', 'n', 'o', 's', 'u', 'b', 's', 'c', 'r', 'i', 'b', 'e', 1})
	sub := make([]byte, 5)
	if _, err := nc.Read(sub); err != nil || !bytes.Equal(sub, []byte{0x90, 3, 0, 1, 0x80}) {
		t.Fatalf("SUBACK % x, %v", sub, err)
	}
	nc.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop")
	}
}
