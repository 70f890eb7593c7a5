package tlsconf_test

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
)

// A client with the private CA and a client certificate completes a real
// handshake with a server that requires client certificates from that CA;
// a client without a certificate is refused.
func TestHandshake(t *testing.T) {
	ca := testcert.NewCA(t)
	srv, cli := ca.Server(), ca.Client("device-1")
	scfg, err := tlsconf.Files{CA: ca.File, Cert: srv.CertFile, Key: srv.KeyFile}.Server()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				name := c.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName
				io.WriteString(c, name)
			}()
		}
	}()
	ccfg, err := tlsconf.Files{CA: ca.File, Cert: cli.CertFile, Key: cli.KeyFile}.Client()
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "device-1" {
		t.Fatalf("server saw %q", got)
	}
	anon, _ := tlsconf.Files{CA: ca.File}.Client()
	c, err = tls.Dial("tcp", ln.Addr().String(), anon)
	if err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
	var _ net.Conn = c
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	for _, c := range []struct {
		f    tlsconf.Files
		want string
	}{
		{tlsconf.Files{CA: junk}, "holds no PEM"},
		{tlsconf.Files{CA: filepath.Join(dir, "missing")}, "CA file"},
		{tlsconf.Files{Cert: junk}, "both a certificate and a key"},
	} {
		if _, err := c.f.Client(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.f, err, c.want)
		}
	}
	if _, err := (tlsconf.Files{}).Server(); err == nil {
		t.Error("a server without certificate was configured")
	}
}
