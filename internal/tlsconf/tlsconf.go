// Package tlsconf builds *tls.Config values from the files an operator
// configures (a private CA, a client or server certificate and key), once
// for every part of the module that dials or serves TLS.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Files names PEM files. Empty fields are not used.
type Files struct {
	// CA is a bundle of certificates to trust instead of the system's
	// (a client verifying a server with a private CA) or, on a server, the
	// CAs whose client certificates are accepted.
	CA string `json:"ca,omitempty" yaml:"ca"`
	// Cert and Key are this side's certificate chain and private key: a
	// client certificate, or a server's certificate.
	Cert string `json:"cert,omitempty" yaml:"cert"`
	Key  string `json:"key,omitempty" yaml:"key"`
	// InsecureSkipVerify disables the verification of the server's
	// certificate (clients only; for tests against self-signed servers).
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty" yaml:"insecure_skip_verify"`
}

// Empty reports whether no file is named and verification is on: the
// system defaults apply.
func (f Files) Empty() bool { return f == Files{} }

// Client returns the configuration of a TLS client: the CA (if any)
// replaces the system roots, Cert and Key (if any) are the client
// certificate. TLS 1.2 is the minimum.
func (f Files) Client() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: f.InsecureSkipVerify}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if f.Cert != "" || f.Key != "" {
		cert, err := f.pair()
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Server returns the configuration of a TLS server: Cert and Key are
// required; with CA, clients must present a certificate signed by it.
// TLS 1.2 is the minimum.
func (f Files) Server() (*tls.Config, error) {
	cert, err := f.pair()
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

func (f Files) pair() (tls.Certificate, error) {
	if f.Cert == "" || f.Key == "" {
		return tls.Certificate{}, errors.New("tls: both a certificate and a key file are needed")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: %w", err)
	}
	return cert, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
