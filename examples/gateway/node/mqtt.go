package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
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
		Namespace: AccountNamespace(tok.CID),
		// Everything the client publishes carries its account's cid,
		// which it cannot forge, and a SUBSCRIBE's "cid" selects a
		// subaccount's space where the token may act in it.
		Properties:    []broker.UserProperty{{Key: "cid", Value: strconv.FormatInt(tok.CID, 10)}},
		SpaceProperty: "cid", Spaces: accountSpaces{n}}
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
// REST API, as the token the client connected with. The answer carries
// the cid of the account whose namespace it goes to: the token's, or the
// subaccount its "response_cid" user property names, when the token may
// act there (else the call is refused with 403, answered in the client's
// own namespace).
func (n *Node) serveRESTOverMQTT(ctx context.Context, r embedded.RESTRequest) embedded.RESTResponse {
	tok, ok := n.clientToken(r.Client)
	if !ok {
		return embedded.RESTResponse{Status: http.StatusUnauthorized, Body: []byte(`{"errors":[{"code":401,"reason":"the MQTT client has no valid token"}]}`)}
	}
	return n.restAs(ctx, tok, r)
}

// restAs answers a REST-over-MQTT request as token tok.
func (n *Node) restAs(ctx context.Context, tok registry.Token, r embedded.RESTRequest) embedded.RESTResponse {
	cid := tok.CID
	for _, p := range r.Properties {
		if p.Key != "response_cid" {
			continue
		}
		to, err := strconv.ParseInt(strings.TrimSpace(p.Value), 10, 64)
		if err != nil || to <= 0 {
			return restError(tok.CID, http.StatusBadRequest, "response_cid: not an account id")
		}
		if !n.API.MayActIn(tok, to) {
			n.refusals.add(rest.RefusedAccount)
			return restError(tok.CID, http.StatusForbidden, fmt.Sprintf("the token cannot act in account %d", to))
		}
		cid = to
	}
	path, rawQuery, _ := strings.Cut(r.URI, "?")
	query, _ := url.ParseQuery(rawQuery)
	status, body := n.API.Do(ctx, tok, r.Method, "/"+path, query, r.Body)
	resp := embedded.RESTResponse{Status: status, Body: body, Properties: cidProperty(cid)}
	if cid != tok.CID {
		resp.Namespace = AccountNamespace(cid)
	}
	return resp
}

func restError(cid int64, status int, reason string) embedded.RESTResponse {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": status, "reason": reason}}})
	return embedded.RESTResponse{Status: status, Body: body, Properties: cidProperty(cid)}
}

func cidProperty(cid int64) []broker.UserProperty {
	return []broker.UserProperty{{Key: "cid", Value: strconv.FormatInt(cid, 10)}}
}

// accountSpaces lets an MQTT client subscribe in the space of an account
// its token may act in (the SUBSCRIBE user property "cid"); other
// accounts, existing or not, are refused alike and counted.
type accountSpaces struct{ n *Node }

func (s accountSpaces) Select(_ context.Context, c *embedded.Client, value string) (string, error) {
	tok, ok := s.n.clientToken(c)
	cid, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if !ok || err != nil || cid <= 0 || !s.n.API.MayActIn(tok, cid) {
		s.n.refusals.add(RefusedSpace)
		return "", fmt.Errorf("account %q: %w", value, broker.ErrNotAuthorized)
	}
	return AccountNamespace(cid), nil
}

// authorizeMQTT is the broker's token authorization, counting what it
// refuses: a topic or filter outside what the token allows, such as
// another account's "$accounts/…" space.
func (n *Node) authorizeMQTT(ctx context.Context, c *embedded.Client, topic string, write bool) error {
	err := embedded.TokenAuthorizer{}.Authorize(ctx, c, topic, write)
	if err != nil {
		n.refusals.add(RefusedTopic)
	}
	return err
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
