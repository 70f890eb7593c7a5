package node

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// tokenPrefix names registry tokens in the broker's Token.Name.
const tokenPrefix = "token:"

// authenticateMQTT admits MQTT clients with a registry token as username
// (or password), with the token's MQTT ACL; a token without an ACL may
// publish and subscribe to everything of its account (the broker itself
// keeps clients from publishing into "flespi/").
func (n *Node) authenticateMQTT(_ context.Context, info embedded.ConnectInfo) (*embedded.Token, error) {
	now := time.Now()
	tok, ok := n.Registry.Authenticate(info.Username, now)
	if !ok {
		tok, ok = n.Registry.Authenticate(string(info.Password), now)
	}
	if !ok {
		return nil, embedded.ErrBadCredentials
	}
	if err := n.limits.session(tok.CID); err != nil {
		return nil, err
	}
	t := &embedded.Token{Name: tokenPrefix + strconv.FormatInt(tok.ID, 10), Publish: []string{"#"}, Subscribe: []string{"#"},
		Namespace: AccountNamespace(tok.CID)}
	if tok.ACL != nil {
		t.Publish, t.Subscribe = tok.ACL.Publish, tok.ACL.Subscribe
	}
	if tok.CID == registry.RootCID && (tok.ACL == nil || tok.ACL.Subaccounts) {
		// The root account's token reaches its subaccounts' spaces:
		// "$accounts/<cid>/…", each message with its cid.
		t.Subscribe = append(slices.Clone(t.Subscribe), "$accounts/#")
	}
	return t, nil
}

// serveRESTOverMQTT answers flespi/rest/{method}/{uri} publishes with the
// REST API, as the token the client connected with.
func (n *Node) serveRESTOverMQTT(ctx context.Context, r embedded.RESTRequest) embedded.RESTResponse {
	tok, ok := n.clientToken(r.Client)
	if !ok {
		return embedded.RESTResponse{Status: http.StatusUnauthorized, Body: []byte(`{"errors":[{"code":401,"reason":"the MQTT client has no valid token"}]}`)}
	}
	path, rawQuery, _ := strings.Cut(r.URI, "?")
	query, _ := url.ParseQuery(rawQuery)
	status, body := n.API.Do(ctx, tok, r.Method, "/"+path, query, r.Body)
	return embedded.RESTResponse{Status: status, Body: body}
}

// clientToken returns the registry token an MQTT client authenticated
// with, if it is still valid.
func (n *Node) clientToken(c *embedded.Client) (registry.Token, bool) {
	if c == nil || c.Token == nil {
		return registry.Token{}, false
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(c.Token.Name, tokenPrefix), 10, 64)
	if err != nil {
		return registry.Token{}, false
	}
	tok, ok := n.Registry.Tokens.Get(id)
	if !ok || tok.Expired(time.Now()) {
		return registry.Token{}, false
	}
	return tok, true
}
