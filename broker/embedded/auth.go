package embedded

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/broker"
)

// ConnectInfo is what a client presented in its CONNECT packet.
type ConnectInfo struct {
	// ClientID is the client identifier as sent: "" when the client left
	// the broker to assign one (Client.ID then holds the assigned one).
	ClientID        string
	Username        string
	Password        []byte
	ProtocolVersion byte // 3 (MQTT 3.1), 4 (3.1.1) or 5
	RemoteAddr      net.Addr
	// TLS is the state of a TLS connection (client certificates), nil for
	// plain TCP and in-process clients.
	TLS *tls.ConnectionState
}

// Token is what an authenticated client may do, in the spirit of a flespi
// token: the topic filters it may publish to and subscribe under. A nil
// *Token stands for an anonymous client.
type Token struct {
	// Name identifies the token in logs and events; never put the secret here.
	Name string
	// Publish lists topic filters ("+" and "#" allowed) the client may
	// publish to. Empty means the client may not publish.
	Publish []string
	// Subscribe lists topic filters the client may subscribe under: a
	// subscription is allowed when every topic it can match is matched by
	// one of them. Empty means the client may not subscribe.
	Subscribe []string

	// Namespace, when set, is the client's private topic space: a prefix
	// of the broker's topics ending in '/', such as "$devices/42/". Every
	// topic name and filter the client uses (PUBLISH, SUBSCRIBE,
	// UNSUBSCRIBE, its will, its REST response topic) is taken inside it,
	// and messages are delivered to it with the prefix removed; its
	// session is its own even if another namespace uses the same client
	// ID. Publish, Subscribe, the Authorizer and Intercept see topics as
	// the client wrote them. In-process publishers reach the client by
	// publishing to Namespace + topic. See "Namespaces" in the package
	// documentation.
	Namespace string
	// Intercept, when set, takes the client's publishes before they are
	// authorized and routed (see Interceptor).
	Intercept Interceptor
	// Properties are user properties the broker sets on every message
	// the client publishes (and on its will), replacing those of the same
	// keys the client sent: what the broker vouches for about the
	// publisher, such as flespi's "cid". "$filter/cid=…/" and
	// "$filter/message=…/" specs see them.
	Properties []broker.UserProperty
	// SpaceProperty and Spaces let a SUBSCRIBE (or UNSUBSCRIBE) carrying
	// the user property SpaceProperty (flespi: "cid") take its filters in
	// another namespace than the client's own: the one Spaces.Select
	// returns for the property's value; without the property, a filter
	// whose "$filter" spec has the condition SpaceProperty=N
	// ("$filter/cid=123/…") selects the space N the same way. Messages
	// matched there are delivered with that namespace removed from their
	// topics.
	SpaceProperty string
	Spaces        Spaces

	// MaxSessions, when above 0, is how many sessions the client's
	// Namespace may hold: connected clients and persistent sessions kept
	// for offline ones until they expire (restored from Config.DataDir
	// included). A CONNECT that would create one more is refused with
	// reason 0x97, quota exceeded (3.1.1: 3, server unavailable);
	// resuming or taking over a session the namespace already holds is
	// not a new one. It is read from the token of each CONNECT, so a
	// changed limit holds from the next one (sessions already over it
	// are kept). See Server.SessionCount.
	MaxSessions int
}

// Client identifies a connected (or in-process) client to an Authorizer and
// to ConnState. It is immutable.
type Client struct {
	ID              string
	Username        string
	Token           *Token // nil: anonymous
	ProtocolVersion byte   // 0 for the in-process path
	RemoteAddr      net.Addr
}

// Authenticator decides whether a client may connect. It returns the
// client's Token (nil for an anonymous client it accepts) or an error:
// ErrBadCredentials (or any other error) refuses the connection with "bad
// username or password"; broker.ErrNotAuthorized with "not authorized";
// ErrServerBusy with "server unavailable"; and a *RefuseError with its
// own reason code. A client without username and password is admitted
// anonymously when Config.AllowAnonymous is set; otherwise the
// Authenticator is asked too (the client may present a TLS certificate,
// or a client identifier the Authenticator knows), and its errors refuse
// the client with "not authorized" unless they are a *RefuseError.
//
// Authenticate is called concurrently from many connections.
type Authenticator interface {
	Authenticate(ctx context.Context, info ConnectInfo) (*Token, error)
}

// AuthenticatorFunc adapts a function to an Authenticator.
type AuthenticatorFunc func(ctx context.Context, info ConnectInfo) (*Token, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, info ConnectInfo) (*Token, error) {
	return f(ctx, info)
}

// Authorizer decides whether c may publish to topic (write) or subscribe
// to the topic filter topic (!write). For subscriptions, topic is the filter
// without its "$share/…/" and "$filter/…/" prefixes. An error wrapping
// broker.ErrNotAuthorized is answered with reason 0x87 (not authorized);
// any other error with 0x80 (unspecified error) — the Paho interoperability
// suite expects the latter for its refused topic.
//
// Authorize is called concurrently and on every PUBLISH and SUBSCRIBE, so it
// should be fast. In-process publishers and subscribers are not checked.
type Authorizer interface {
	Authorize(ctx context.Context, c *Client, topic string, write bool) error
}

// AuthorizerFunc adapts a function to an Authorizer.
type AuthorizerFunc func(ctx context.Context, c *Client, topic string, write bool) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, c *Client, topic string, write bool) error {
	return f(ctx, c, topic, write)
}

// FilterAuthorizer is an Authorizer that sees a subscription's whole
// filter — its "$share/…/" group and "$filter/…/" spec as the client
// wrote them — where Authorize sees the topic filter alone. The broker
// calls AuthorizeFilter instead of Authorize for each filter of a
// SUBSCRIBE when its Authorizer implements it, with the same meaning of
// the errors. A program keeping accounts apart tells by it a filter that
// asks for another account's messages, say with "$filter/message=cid==N",
// which would see nothing: it may refuse it, or let it see nothing and
// count it.
type FilterAuthorizer interface {
	Authorizer
	AuthorizeFilter(ctx context.Context, c *Client, f *broker.Filter) error
}

// authorizeSubscribe checks a subscription filter with the Authorizer.
func (s *Server) authorizeSubscribe(ctx context.Context, c *Client, f *broker.Filter) error {
	if fa, ok := s.auth.(FilterAuthorizer); ok {
		return fa.AuthorizeFilter(ctx, c, f)
	}
	return s.auth.Authorize(ctx, c, f.Topic(), false)
}

// TokenAuthorizer is the default Authorizer: an authenticated client may do
// what its Token lists; an anonymous client (nil Token) may do anything
// (anonymous clients are only admitted when Config.AllowAnonymous is set).
type TokenAuthorizer struct{}

// Authorize implements Authorizer.
func (TokenAuthorizer) Authorize(_ context.Context, c *Client, topic string, write bool) error {
	if c == nil || c.Token == nil {
		return nil
	}
	if write {
		for _, p := range c.Token.Publish {
			if broker.MatchTopic(p, topic) {
				return nil
			}
		}
		return broker.ErrNotAuthorized
	}
	for _, p := range c.Token.Subscribe {
		if filterCovers(p, topic) {
			return nil
		}
	}
	return broker.ErrNotAuthorized
}

// TokenStore is a simple Authenticator: a set of secret tokens, each with
// its Token rights. A client presents the secret as its username (flespi's
// convention) or, when the username is not a known token, as its password.
// The zero value is an empty store; it is safe for concurrent use, and
// tokens may be added and removed while the broker runs (connected clients
// keep the rights they connected with).
type TokenStore struct {
	mu     sync.RWMutex
	tokens map[string]*Token
}

// Set adds or replaces the token secret.
func (s *TokenStore) Set(secret string, t *Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = make(map[string]*Token)
	}
	s.tokens[secret] = t
}

// Delete removes the token secret.
func (s *TokenStore) Delete(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, secret)
}

// Authenticate implements Authenticator.
func (s *TokenStore) Authenticate(_ context.Context, info ConnectInfo) (*Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t, ok := s.tokens[info.Username]; ok && info.Username != "" {
		return t, nil
	}
	if t, ok := s.tokens[string(info.Password)]; ok && len(info.Password) > 0 {
		return t, nil
	}
	return nil, ErrBadCredentials
}

// filterCovers reports whether every topic matched by filter is matched by
// pattern. Both are plain MQTT filters; a level of filter may be a flespi
// comma list, covered when each of its values is.
func filterCovers(pattern, filter string) bool {
	pl := strings.Split(pattern, "/")
	fl := strings.Split(filter, "/")
	for i, p := range pl {
		if p == "#" {
			// "#" does not match "$…" topics at the first level.
			return !(i == 0 && strings.HasPrefix(fl[0], "$"))
		}
		if i >= len(fl) {
			return false
		}
		f := fl[i]
		switch {
		case p == "+":
			if f == "#" || (i == 0 && strings.HasPrefix(f, "$")) {
				return false
			}
		case f == "+" || f == "#":
			return false
		default:
			for _, v := range strings.Split(f, ",") {
				if v != p {
					return false
				}
			}
		}
	}
	return len(pl) == len(fl)
}
