package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Accounts is the kind of customer accounts (flespi's cid).
const Accounts Kind = "accounts"

// Account is a customer account: flespi's cid. Its ID is the cid every
// object, token and message of the account carries; its CID is its
// parent's, so a subaccount belongs to the account that made it. The root
// account (RootCID, the master token's) has no parent (CID 0).
type Account struct {
	Meta
	Name     string         `json:"name"`
	Limits   Limits         `json:"limits"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Limits bound what one account may have and do; 0 means no limit.
type Limits struct {
	Devices  int64 `json:"devices,omitempty"`
	Channels int64 `json:"channels,omitempty"`
	Streams  int64 `json:"streams,omitempty"`
	// MessagesStored bounds the messages kept in the account's device
	// histories; beyond it the account's channels stop acknowledging
	// (Block semantics) until retention or a deletion makes room.
	MessagesStored int64 `json:"messages_stored,omitempty"`
	// MQTTSessions bounds the MQTT sessions (connected or kept) of the
	// account's namespace.
	MQTTSessions int64 `json:"mqtt_sessions,omitempty"`
	// BytesPerSecondIn bounds the bytes per second the account's devices
	// send to channels; over it, their connections are slowed down.
	BytesPerSecondIn int64 `json:"bytes_per_second_in,omitempty"`
}

// maxDepth bounds the account tree, so a walk up it always ends.
const maxDepth = 16

func checkAccount(r *Registry, old, a *Account) error {
	switch {
	case strings.TrimSpace(a.Name) == "":
		return invalid("name", "required")
	case a.Limits.Devices < 0 || a.Limits.Channels < 0 || a.Limits.Streams < 0 || a.Limits.MessagesStored < 0 ||
		a.Limits.MQTTSessions < 0 || a.Limits.BytesPerSecondIn < 0:
		return invalid("limits", "must not be negative")
	}
	if old != nil {
		return nil // the parent never changes (Update keeps CID)
	}
	if a.CID == 0 {
		return nil // the root: one, by its unique key
	}
	if _, ok := r.Accounts.Get(a.CID); !ok {
		return invalid("cid", "no parent account %d", a.CID)
	}
	if len(r.Ancestors(a.CID)) >= maxDepth {
		return invalid("cid", "subaccounts nest at most %d deep", maxDepth)
	}
	return nil
}

// Ancestors returns cid's parent, its parent's parent, and so on up to the
// root.
func (r *Registry) Ancestors(cid int64) []int64 {
	var out []int64
	for range maxDepth {
		a, ok := r.Accounts.Get(cid)
		if !ok || a.CID == 0 {
			return out
		}
		out = append(out, a.CID)
		cid = a.CID
	}
	return out
}

// Within reports whether account cid is account of or one of its
// descendants.
func (r *Registry) Within(cid, of int64) bool {
	if cid == of {
		return true
	}
	for _, a := range r.Ancestors(cid) {
		if a == of {
			return true
		}
	}
	return false
}

// EnsureRoot makes sure the root account exists.
func (r *Registry) EnsureRoot(ctx context.Context) error {
	if _, ok := r.Accounts.Get(RootCID); ok {
		return nil
	}
	if r.Accounts.Len() > 0 {
		return fmt.Errorf("registry: accounts exist but not the root (%d)", RootCID)
	}
	a, err := r.Accounts.Create(ctx, Account{Name: "root"})
	if errors.Is(err, ErrConflict) {
		// Another node sharing the KV made it first.
		r.Accounts.refresh(ctx, RootCID)
		if _, ok := r.Accounts.Get(RootCID); ok {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if a.ID != RootCID {
		return fmt.Errorf("registry: the root account got id %d, not %d", a.ID, RootCID)
	}
	return nil
}

// LimitError reports a limit of an account that a change would exceed.
type LimitError struct {
	CID   int64
	Limit string
	Max   int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("account %d: limit of %d %s reached", e.CID, e.Max, e.Limit)
}

// countIn counts the objects of a collection that belong to account cid.
func countIn[T any, P interface {
	*T
	Object
}](c *Collection[T, P], cid int64) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var n int64
	for _, it := range c.items {
		if P(&it.v).meta().CID == cid {
			n++
		}
	}
	return n
}

// checkLimit refuses a new object of kind in account cid beyond its limit.
func (r *Registry) checkLimit(cid int64, kind string, count func(int64) int64, limit func(Limits) int64) error {
	a, ok := r.Accounts.Get(cid)
	if !ok {
		return invalid("cid", "no account %d", cid)
	}
	if max := limit(a.Limits); max > 0 && count(cid) >= max {
		return &LimitError{CID: cid, Limit: kind, Max: max}
	}
	return nil
}
