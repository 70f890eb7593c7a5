package deviceapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/channel"
)

// Device is a device of the device API.
type Device struct {
	// Ident is the device's ident: its messages' "ident" and its private
	// topic namespace. Required: 1 to channel.MaxIdentLen bytes of UTF-8
	// without '/', '+', '#' or control characters.
	Ident string
	// Name is ThingsBoard's device name (gateways name their devices);
	// "" means Ident.
	Name string
	// Gateway lets the device speak the gateway API (v1/gateway/…) for
	// other devices.
	Gateway bool
}

// ErrUnknownDevice: no device has the credentials presented. The API
// refuses the connection with ThingsBoard's codes.
var ErrUnknownDevice = errors.New("deviceapi: unknown device credentials")

// Credential is what a client presented at CONNECT.
type Credential struct {
	ClientID string
	Username string
	Password []byte // nil: no password
	// Certificate is the client's TLS certificate (the leaf), nil without
	// one. The TLS handshake proved that the client holds its key; its
	// validity dates have been checked.
	Certificate *x509.Certificate
}

// Credentials finds the device that presented a credential. The API calls
// it at every CONNECT, concurrently. An embedding program backs it with
// its own device database (the gateway: a device's
// configuration.access_token); MemoryCredentials is the default.
type Credentials interface {
	// LookupDevice returns the device, ErrUnknownDevice when there is
	// none, or another error when the lookup failed (the client is then
	// refused with "server unavailable").
	LookupDevice(ctx context.Context, c Credential) (Device, error)
}

// CheckIdent reports whether ident can be a device's ident.
func CheckIdent(ident string) error {
	switch {
	case ident == "":
		return errors.New("deviceapi: empty ident")
	case len(ident) > channel.MaxIdentLen:
		return fmt.Errorf("deviceapi: ident longer than %d bytes", channel.MaxIdentLen)
	case !validKey(ident) || strings.ContainsAny(ident, "/+#"):
		return fmt.Errorf("deviceapi: ident %.40q holds '/', '+', '#' or a control character", ident)
	}
	return nil
}

// Fingerprint returns the SHA-256 of a certificate's DER encoding in
// lower-case hex: the form MemoryCredentials keys certificates by.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// basicCred is an MQTT basic credential: any of client ID and user name,
// and a password when set.
type basicCred struct {
	clientID, username string
	password           []byte
	dev                Device
}

// MemoryCredentials is the in-memory Credentials: devices by access
// token, by basic MQTT credentials and by certificate fingerprint, with
// ThingsBoard's matching rules (see LookupDevice). The zero value is
// empty and ready; it is safe for concurrent use, and credentials may be
// changed while devices connect.
type MemoryCredentials struct {
	mu       sync.RWMutex
	tokens   map[string]Device
	certs    map[string]Device
	byBoth   map[string]*basicCred // clientID + "|" + username
	byClient map[string]*basicCred // client ID only
	byUser   map[string]*basicCred // user name only
}

// SetToken adds or replaces an access token.
func (m *MemoryCredentials) SetToken(token string, d Device) error {
	if token == "" {
		return errors.New("deviceapi: empty access token")
	}
	if err := CheckIdent(d.Ident); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = make(map[string]Device)
	}
	m.tokens[token] = d
	return nil
}

// SetBasic adds basic MQTT credentials: a client ID, a user name, or both,
// and a password (nil: none checked). As in ThingsBoard, a device
// presenting both is matched on both first, then on the user name alone;
// one presenting no user name is matched on its client ID.
func (m *MemoryCredentials) SetBasic(clientID, username string, password []byte, d Device) error {
	if clientID == "" && username == "" {
		return errors.New("deviceapi: basic credentials need a client ID or a user name")
	}
	if err := CheckIdent(d.Ident); err != nil {
		return err
	}
	b := &basicCred{clientID: clientID, username: username, password: password, dev: d}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case clientID != "" && username != "":
		if m.byBoth == nil {
			m.byBoth = make(map[string]*basicCred)
		}
		m.byBoth[clientID+"|"+username] = b
	case clientID != "":
		if m.byClient == nil {
			m.byClient = make(map[string]*basicCred)
		}
		m.byClient[clientID] = b
	default:
		if m.byUser == nil {
			m.byUser = make(map[string]*basicCred)
		}
		m.byUser[username] = b
	}
	return nil
}

// SetCertificate adds a device's X.509 certificate by its fingerprint
// (hex SHA-256 of the DER; colons and case are ignored) or as PEM.
func (m *MemoryCredentials) SetCertificate(fingerprintOrPEM string, d Device) error {
	fp, err := normalizeFingerprint(fingerprintOrPEM)
	if err != nil {
		return err
	}
	if err := CheckIdent(d.Ident); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.certs == nil {
		m.certs = make(map[string]Device)
	}
	m.certs[fp] = d
	return nil
}

func normalizeFingerprint(s string) (string, error) {
	if strings.Contains(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil || block.Type != "CERTIFICATE" {
			return "", errors.New("deviceapi: no PEM certificate")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("deviceapi: certificate: %w", err)
		}
		return Fingerprint(cert), nil
	}
	fp := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if b, err := hex.DecodeString(fp); err != nil || len(b) != sha256.Size {
		return "", errors.New("deviceapi: a fingerprint is 64 hex digits (SHA-256 of the certificate's DER)")
	}
	return fp, nil
}

// Delete removes every credential of the device ident.
func (m *MemoryCredentials) Delete(ident string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, d := range m.tokens {
		if d.Ident == ident {
			delete(m.tokens, k)
		}
	}
	for k, d := range m.certs {
		if d.Ident == ident {
			delete(m.certs, k)
		}
	}
	for _, mm := range []map[string]*basicCred{m.byBoth, m.byClient, m.byUser} {
		for k, b := range mm {
			if b.dev.Ident == ident {
				delete(mm, k)
			}
		}
	}
}

// LookupDevice implements Credentials with ThingsBoard's rules: a client
// with a certificate is known by it alone; one without a user name by
// basic credentials of its client ID; one with a user name first by basic
// credentials of its client ID and user name (a wrong password refuses
// it), then by the user name as an access token (the password is not
// looked at) or as basic credentials of that user name.
func (m *MemoryCredentials) LookupDevice(_ context.Context, c Credential) (Device, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c.Certificate != nil {
		if d, ok := m.certs[Fingerprint(c.Certificate)]; ok {
			return d, nil
		}
		return Device{}, ErrUnknownDevice
	}
	if c.Username == "" {
		if b := m.byClient[c.ClientID]; b != nil && b.matches(c) {
			return b.dev, nil
		}
		return Device{}, ErrUnknownDevice
	}
	if b := m.byBoth[c.ClientID+"|"+c.Username]; b != nil {
		if b.matches(c) {
			return b.dev, nil
		}
		return Device{}, ErrUnknownDevice // password mismatch
	}
	if d, ok := m.tokens[c.Username]; ok {
		return d, nil
	}
	if b := m.byUser[c.Username]; b != nil && b.matches(c) {
		return b.dev, nil
	}
	return Device{}, ErrUnknownDevice
}

func (b *basicCred) matches(c Credential) bool {
	if b.clientID != "" && b.clientID != c.ClientID || b.username != "" && b.username != c.Username {
		return false
	}
	return b.password == nil || subtle.ConstantTimeCompare(b.password, c.Password) == 1
}
