package wsstream

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
)

// ErrHandshake is Read's error when the client's opening handshake is not
// a WebSocket upgrade request (RFC 6455 §4.2.1); the client has been
// answered with an HTTP error.
var ErrHandshake = errors.New("wsstream: bad WebSocket handshake")

// maxRequest bounds the client's HTTP upgrade request (request line and
// headers); it must fit the read buffer.
const maxRequest = rawSize

// Accept returns the server end of a WebSocket whose opening handshake has
// not happened yet: the first Read reads the client's HTTP upgrade request
// from nc and answers it (101, choosing the first of the client's
// subprotocols that cfg.Subprotocols lists; 400 or 426 and ErrHandshake for
// anything else), under nc's read deadline. Any path is accepted. Unlike a
// handshake through net/http, it allocates nothing per connection beyond
// the ServerConn: the request is read into the pooled read buffer, and
// bytes the client sent after it stay there as the first frames. Nothing
// may be written before the first Read has returned.
func Accept(nc net.Conn, cfg *ServerConfig) *ServerConn {
	c := NewServerConn(nc, cfg)
	c.pending = true
	if cfg != nil {
		c.protocols = cfg.Subprotocols
	}
	return c
}

// handshake reads and answers the upgrade request.
func (c *ServerConn) handshake() error {
	c.pending = false
	c.raw = rawPool.Get().(*[]byte)
	c.r, c.w = 0, 0
	end := -1
	for end < 0 {
		if c.w == maxRequest {
			return c.refuse("431 Request Header Fields Too Large")
		}
		m, err := c.nc.Read((*c.raw)[c.w:maxRequest])
		if m == 0 && err != nil {
			c.r, c.w = 0, 0
			c.releaseIfEmpty()
			return err
		}
		from := max(c.w-3, 0)
		c.w += m
		if i := bytes.Index((*c.raw)[from:c.w], []byte("\r\n\r\n")); i >= 0 {
			end = from + i + 4
		}
	}
	req := (*c.raw)[:end]
	c.r = end // what follows is frames
	line, rest, _ := bytes.Cut(req, []byte("\r\n"))
	if !bytes.HasPrefix(line, []byte("GET ")) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		return c.refuse("400 Bad Request")
	}
	var key, protocols []byte
	var upgrade, connection, version bool
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue // the empty line that ends the headers
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = hasToken(value, "websocket")
		case bytes.EqualFold(name, []byte("Connection")):
			connection = connection || hasToken(value, "upgrade")
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Version")):
			version = string(value) == "13"
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Key")):
			key = value
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			if protocols == nil {
				protocols = value
			} else {
				protocols = append(append(append([]byte(nil), protocols...), ','), value...)
			}
		}
	}
	if !upgrade || !connection || len(key) != 24 {
		return c.refuse("400 Bad Request")
	}
	if !version {
		return c.refuse("426 Upgrade Required\r\nSec-WebSocket-Version: 13")
	}
	var out [256]byte
	b := append(out[:0], "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	h := sha1.New()
	h.Write(key)
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	var sum [sha1.Size]byte
	b = base64.StdEncoding.AppendEncode(b, h.Sum(sum[:0]))
	if p := choose(protocols, c.protocols); p != "" {
		b = append(append(append(b, "\r\nSec-WebSocket-Protocol: "...), p...), "\r\n"...)
	} else {
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	c.releaseIfEmpty()
	return nil
}

// refuse answers the request with an HTTP error status and ends reading.
func (c *ServerConn) refuse(status string) error {
	c.nc.Write([]byte("HTTP/1.1 " + status + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	c.r, c.w = 0, 0
	c.releaseIfEmpty()
	c.wm.Lock()
	c.closeSent = true // nothing may be written on it any more
	c.wm.Unlock()
	return ErrHandshake
}

// hasToken reports whether the comma-separated header value v holds token,
// case-insensitively.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}

// choose returns the first of the client's subprotocols (comma-separated)
// that the server supports, or "".
func choose(client []byte, server []string) string {
	for len(client) > 0 {
		var t []byte
		t, client, _ = bytes.Cut(client, []byte(","))
		t = bytes.TrimSpace(t)
		for _, s := range server {
			if string(t) == s {
				return s
			}
		}
	}
	return ""
}
