package node

import (
	"context"
	"fmt"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// masterInfo marks the master token in the registry.
const masterInfo = "master"

// declare makes the registry hold what the configuration declares: the
// master token, channels (by name), devices (by ident), streams (by name)
// and tokens (by key). It runs at every start, so editing the config file
// and restarting updates the objects; objects created through the API are
// left alone.
func (n *Node) declare(ctx context.Context) error {
	if err := n.declareMaster(ctx); err != nil {
		return err
	}
	for _, spec := range n.cfg.Channels {
		c := registry.Channel{Meta: registry.Meta{CID: registry.RootCID}, Name: spec.Name, ProtocolName: spec.Protocol,
			Enabled: true, Configuration: spec.Config, Origin: spec.Origin}
		c.Configuration.TCP, c.Configuration.UDP = spec.TCP.Addr, spec.UDP.Addr
		if id, ok := n.Registry.Channels.Lookup("name=" + spec.Name); ok {
			if _, err := n.Registry.Channels.Update(ctx, id, func(old *registry.Channel) error {
				c.Metadata = old.Metadata
				*old = c
				return nil
			}); err != nil {
				return fmt.Errorf("channel %q: %w", spec.Name, err)
			}
			continue
		}
		if _, err := n.Registry.Channels.Create(ctx, c); err != nil {
			return fmt.Errorf("channel %q: %w", spec.Name, err)
		}
	}
	for _, d := range n.cfg.Devices {
		d.CID = registry.RootCID
		if id, ok := n.Registry.DeviceIDByIdent(d.Configuration.Ident); ok {
			if _, err := n.Registry.Devices.Update(ctx, id, func(old *registry.Device) error { *old = d; return nil }); err != nil {
				return fmt.Errorf("device %q: %w", d.Configuration.Ident, err)
			}
			continue
		}
		if _, err := n.Registry.Devices.Create(ctx, d); err != nil {
			return fmt.Errorf("device %q: %w", d.Configuration.Ident, err)
		}
	}
	for _, s := range n.cfg.Streams {
		s.CID = registry.RootCID
		var found int64
		for _, old := range n.Registry.Streams.List() {
			if old.Name == s.Name && old.CID == registry.RootCID {
				found = old.ID
			}
		}
		var err error
		if found != 0 {
			_, err = n.Registry.Streams.Update(ctx, found, func(old *registry.Stream) error { *old = s; return nil })
		} else {
			_, err = n.Registry.Streams.Create(ctx, s)
		}
		if err != nil {
			return fmt.Errorf("stream %q: %w", s.Name, err)
		}
	}
	for _, t := range n.cfg.Tokens {
		if err := n.ensureToken(ctx, t.Key, t.Info, t.ACL); err != nil {
			return fmt.Errorf("token %q: %w", t.Info, err)
		}
	}
	return nil
}

// declareMaster makes sure the root account has a master token: the one
// configured, or one generated at the first start of a data directory.
func (n *Node) declareMaster(ctx context.Context) error {
	if n.cfg.MasterToken != "" {
		return n.ensureToken(ctx, n.cfg.MasterToken, masterInfo, nil)
	}
	for _, t := range n.Registry.Tokens.List() {
		if t.CID == registry.RootCID && t.Info == masterInfo && t.ACL == nil {
			return nil // generated before, kept in the data directory
		}
	}
	t, err := n.Registry.CreateToken(ctx, registry.Token{Meta: registry.Meta{CID: registry.RootCID}, Info: masterInfo}, "")
	if err != nil {
		return err
	}
	if n.cfg.OnMasterToken != nil {
		n.cfg.OnMasterToken(t.Key)
	}
	return nil
}

// ensureToken creates the token for key, or updates its info and ACL.
func (n *Node) ensureToken(ctx context.Context, key, info string, acl *registry.ACL) error {
	if id, ok := n.Registry.Tokens.Lookup("hash=" + registry.HashKey(key)); ok {
		_, err := n.Registry.Tokens.Update(ctx, id, func(t *registry.Token) error {
			t.Info, t.ACL, t.Expire = info, acl, 0
			return nil
		})
		return err
	}
	_, err := n.Registry.CreateToken(ctx, registry.Token{Meta: registry.Meta{CID: registry.RootCID}, Info: info, ACL: acl}, key)
	return err
}
