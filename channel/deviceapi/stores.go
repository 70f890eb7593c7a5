package deviceapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Scope is an attribute scope.
type Scope uint8

// The attribute scopes of the device API: client attributes are the
// device's own (it publishes them), shared attributes are set by the
// server and pushed to the device.
const (
	ClientScope Scope = iota + 1
	SharedScope
)

func (s Scope) String() string {
	switch s {
	case ClientScope:
		return "client"
	case SharedScope:
		return "shared"
	}
	return "unknown"
}

// AttributeStore keeps device attributes. Methods are called concurrently.
type AttributeStore interface {
	// SetAttributes adds or replaces attributes.
	SetAttributes(ctx context.Context, ident string, scope Scope, attrs []Attribute) error
	// DeleteAttributes removes attributes by key.
	DeleteAttributes(ctx context.Context, ident string, scope Scope, keys []string) error
	// Attributes returns the attributes with the given keys (those that
	// exist), or all of them, sorted by key, when keys is nil.
	Attributes(ctx context.Context, ident string, scope Scope, keys []string) ([]Attribute, error)
}

// MemoryAttributes is the in-memory AttributeStore. The zero value is
// ready and safe for concurrent use.
type MemoryAttributes struct {
	mu sync.RWMutex
	m  map[attrKey]map[string]Attribute
}

type attrKey struct {
	ident string
	scope Scope
}

// SetAttributes implements AttributeStore.
func (s *MemoryAttributes) SetAttributes(_ context.Context, ident string, scope Scope, attrs []Attribute) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[attrKey]map[string]Attribute)
	}
	k := attrKey{ident, scope}
	m := s.m[k]
	if m == nil {
		m = make(map[string]Attribute, len(attrs))
		s.m[k] = m
	}
	for _, a := range attrs {
		m[a.Key] = a
	}
	return nil
}

// DeleteAttributes implements AttributeStore.
func (s *MemoryAttributes) DeleteAttributes(_ context.Context, ident string, scope Scope, keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m[attrKey{ident, scope}]
	for _, k := range keys {
		delete(m, k)
	}
	return nil
}

// Attributes implements AttributeStore.
func (s *MemoryAttributes) Attributes(_ context.Context, ident string, scope Scope, keys []string) ([]Attribute, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.m[attrKey{ident, scope}]
	var out []Attribute
	if keys == nil {
		for _, a := range m {
			out = append(out, a)
		}
		slices.SortFunc(out, func(a, b Attribute) int { return strings.Compare(a.Key, b.Key) })
		return out, nil
	}
	for _, k := range keys {
		if a, ok := m[k]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// Claim is a device's claiming registration: whoever presents SecretKey
// for the device before Expires may claim it (ThingsBoard's device
// claiming).
type Claim struct {
	Ident     string
	SecretKey string
	Expires   time.Time
}

// ClaimStore records claim registrations.
type ClaimStore interface {
	RegisterClaim(ctx context.Context, c Claim) error
}

// MemoryClaims is the in-memory ClaimStore. The zero value is ready and
// safe for concurrent use.
type MemoryClaims struct {
	mu sync.Mutex
	m  map[string]Claim
}

// RegisterClaim implements ClaimStore.
func (s *MemoryClaims) RegisterClaim(_ context.Context, c Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]Claim)
	}
	now := time.Now()
	for k, old := range s.m { // forget expired registrations as new ones come
		if now.After(old.Expires) {
			delete(s.m, k)
		}
	}
	s.m[c.Ident] = c
	return nil
}

// Claim consumes the device's registration if secretKey matches it and it
// has not expired: the embedding program's side of claiming (a user
// claims the device with the secret key).
func (s *MemoryClaims) Claim(ident, secretKey string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[ident]
	if !ok || now.After(c.Expires) || c.SecretKey != secretKey {
		return false
	}
	delete(s.m, ident)
	return true
}

// Lookup returns the device's current registration.
func (s *MemoryClaims) Lookup(ident string) (Claim, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[ident]
	return c, ok
}

// Provisioning answers (ThingsBoard's provision response "status").
const (
	ProvisionSuccess  = "SUCCESS"
	ProvisionNotFound = "NOT_FOUND"
	ProvisionFailure  = "FAILURE"
)

// Credential types of provisioning.
const (
	CredentialsAccessToken = "ACCESS_TOKEN"
	CredentialsMQTTBasic   = "MQTT_BASIC"
	CredentialsX509        = "X509_CERTIFICATE"
)

// ProvisionRequest is a device's provisioning request (ThingsBoard:
// deviceName, provisionDeviceKey, provisionDeviceSecret, and optionally
// the credentials it wants).
type ProvisionRequest struct {
	DeviceName      string
	Key, Secret     string // provisionDeviceKey, provisionDeviceSecret
	CredentialsType string // CredentialsAccessToken (default), CredentialsMQTTBasic or CredentialsX509
	Token           string // wanted access token, "" to have one made
	ClientID        string // basic credentials wanted
	Username        string
	Password        string
	Hash            string // X.509: the certificate's fingerprint or PEM
	Gateway         bool
}

// ProvisionResult answers a provisioning request. Status is
// ProvisionSuccess (with the credentials), ProvisionNotFound (unknown key
// or secret) or ProvisionFailure.
type ProvisionResult struct {
	Status          string
	CredentialsType string
	Token           string // CredentialsAccessToken
	ClientID        string // CredentialsMQTTBasic
	Username        string
	Password        string
	Hash            string // CredentialsX509
}

// Provisioner provisions devices: it checks the provision key and secret,
// creates the device with its credentials, and says which.
type Provisioner interface {
	Provision(ctx context.Context, r ProvisionRequest) (ProvisionResult, error)
}

// MemoryProvisioner provisions devices into a MemoryCredentials. Profiles
// map a provision key to its secret (a ThingsBoard device profile with
// "allow to create new devices"); a device name that is already taken is a
// failure. The device's ident is its name (a generated one when the
// request has none). Safe for concurrent use once configured.
type MemoryProvisioner struct {
	Credentials *MemoryCredentials
	mu          sync.Mutex
	profiles    map[string]string
	names       map[string]bool
}

// AddProfile allows provisioning with key and secret.
func (p *MemoryProvisioner) AddProfile(key, secret string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.profiles == nil {
		p.profiles = make(map[string]string)
	}
	p.profiles[key] = secret
}

// Provision implements Provisioner.
func (p *MemoryProvisioner) Provision(_ context.Context, r ProvisionRequest) (ProvisionResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	secret, ok := p.profiles[r.Key]
	if !ok || secret != r.Secret || p.Credentials == nil {
		return ProvisionResult{Status: ProvisionNotFound}, nil
	}
	name := r.DeviceName
	if name == "" {
		name = randomHex(8)
	}
	if p.names[name] || CheckIdent(name) != nil {
		return ProvisionResult{Status: ProvisionFailure}, nil
	}
	d := Device{Ident: name, Name: name, Gateway: r.Gateway}
	res := ProvisionResult{Status: ProvisionSuccess, CredentialsType: r.CredentialsType}
	var err error
	switch r.CredentialsType {
	case "", CredentialsAccessToken:
		res.CredentialsType, res.Token = CredentialsAccessToken, r.Token
		if res.Token == "" {
			res.Token = randomHex(10)
		}
		err = p.Credentials.SetToken(res.Token, d)
	case CredentialsMQTTBasic:
		res.ClientID, res.Username, res.Password = r.ClientID, r.Username, r.Password
		var pw []byte
		if r.Password != "" {
			pw = []byte(r.Password)
		}
		err = p.Credentials.SetBasic(r.ClientID, r.Username, pw, d)
	case CredentialsX509:
		res.Hash = r.Hash
		err = p.Credentials.SetCertificate(r.Hash, d)
	default:
		return ProvisionResult{Status: ProvisionFailure}, nil
	}
	if err != nil {
		return ProvisionResult{Status: ProvisionFailure}, nil
	}
	if p.names == nil {
		p.names = make(map[string]bool)
	}
	p.names[name] = true
	return res, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// PackageKind tells firmware from software (ThingsBoard's OTA package
// types, with the attribute prefixes "fw_" and "sw_").
type PackageKind uint8

// Package kinds.
const (
	Firmware PackageKind = iota + 1
	Software
)

func (k PackageKind) prefix() string {
	if k == Software {
		return "sw"
	}
	return "fw"
}

func (k PackageKind) String() string {
	if k == Software {
		return "software"
	}
	return "firmware"
}

// Package is a firmware or software image assigned to a device.
type Package struct {
	Title, Version string
	Tag, URL       string // optional
	Size           int64
	// ChecksumAlgorithm is "SHA256" (when empty), "SHA384", "SHA512" or
	// "MD5"; Checksum is the image's checksum in lower-case hex.
	ChecksumAlgorithm string
	Checksum          string
	// Content holds the image's Size bytes.
	Content io.ReaderAt
}

// NewPackage makes a package of data with its SHA-256 checksum.
func NewPackage(title, version string, data []byte) *Package {
	sum := sha256.Sum256(data)
	return &Package{Title: title, Version: version, Size: int64(len(data)), ChecksumAlgorithm: "SHA256",
		Checksum: hex.EncodeToString(sum[:]), Content: bytes.NewReader(data)}
}

// ChecksumOf computes the checksum of data with algorithm ("" means
// SHA256), in lower-case hex.
func ChecksumOf(algorithm string, data []byte) (string, error) {
	var h hash.Hash
	switch strings.ToUpper(algorithm) {
	case "", "SHA256":
		h = sha256.New()
	case "SHA384":
		h = sha512.New384()
	case "SHA512":
		h = sha512.New()
	case "MD5":
		h = md5.New()
	default:
		return "", fmt.Errorf("deviceapi: checksum algorithm %q not supported", algorithm)
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrNoPackage: no package of that kind is assigned to the device (the
// device gets "NOT_FOUND" on v2/fw/error or v2/sw/error).
var ErrNoPackage = errors.New("deviceapi: no package assigned")

// PackageStore keeps the packages assigned to devices.
type PackageStore interface {
	// AssignPackage assigns pkg to the device (nil removes the assignment).
	AssignPackage(ctx context.Context, ident string, kind PackageKind, pkg *Package) error
	// Package returns the package assigned, or ErrNoPackage.
	Package(ctx context.Context, ident string, kind PackageKind) (*Package, error)
}

// MemoryPackages is the in-memory PackageStore. The zero value is ready
// and safe for concurrent use.
type MemoryPackages struct {
	mu sync.RWMutex
	m  map[pkgKey]*Package
}

type pkgKey struct {
	ident string
	kind  PackageKind
}

// AssignPackage implements PackageStore.
func (s *MemoryPackages) AssignPackage(_ context.Context, ident string, kind PackageKind, pkg *Package) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[pkgKey]*Package)
	}
	if pkg == nil {
		delete(s.m, pkgKey{ident, kind})
	} else {
		s.m[pkgKey{ident, kind}] = pkg
	}
	return nil
}

// Package implements PackageStore.
func (s *MemoryPackages) Package(_ context.Context, ident string, kind PackageKind) (*Package, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.m[pkgKey{ident, kind}]; p != nil {
		return p, nil
	}
	return nil, ErrNoPackage
}
