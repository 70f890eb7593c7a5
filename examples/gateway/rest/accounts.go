package rest

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/selector"
)

// subaccounts serves /platform/subaccounts/{selector}: the subaccounts of
// the account the call acts in (and theirs, for a token allowed into
// them). POST creates subaccounts of that account; PUT changes a name,
// limits or metadata; DELETE removes an empty subaccount.
func (q *request) subaccounts(s []string) ([]byte, error) {
	render := func(a *registry.Account) []byte { b, _ := json.Marshal(a); return b }
	if len(s) == 0 {
		if q.method != http.MethodPost {
			return nil, q.methodNotAllowed()
		}
		if !subaccountsAllowed(q.tok) {
			return nil, errf(http.StatusForbidden, "the token's ACL does not allow subaccounts")
		}
		return q.create(func(raw json.RawMessage) ([]byte, error) {
			var a registry.Account
			if err := decodeStrict(raw, &a); err != nil {
				return nil, err
			}
			a.CID = q.cid // a subaccount of the account the call acts in
			a, err := q.api.Registry.Accounts.Create(q.ctx, a)
			if err != nil {
				return nil, err
			}
			return render(&a), nil
		})
	}
	// Only strict subaccounts: an account does not list or change itself.
	var list []registry.Account
	for _, a := range q.api.Registry.Accounts.List() {
		if a.ID != q.cid && a.ID != q.tok.CID {
			list = append(list, a)
		}
	}
	f, query, err := selection(q, s[0], list, func(a *registry.Account) registry.Meta { return a.Meta },
		func(a *registry.Account, _ bool) []byte { return render(a) }, false)
	if err != nil {
		return nil, err
	}
	if !f.probed && q.guessesAccount(query) {
		q.api.refused(RefusedObject)
	}
	if len(s) > 1 {
		return nil, errf(http.StatusNotFound, "subaccounts have no %q", s[1])
	}
	switch q.method {
	case http.MethodGet:
		return answer(f, query), nil
	case http.MethodPut:
		return q.update(f.ids, func(id int64, raw []byte) ([]byte, error) {
			a, err := q.api.Registry.Accounts.Update(q.ctx, id, func(a *registry.Account) error { return decodeStrict(raw, a) })
			if err != nil {
				return nil, err
			}
			return render(&a), nil
		})
	case http.MethodDelete:
		for _, id := range f.ids {
			if err := q.deleteAccount(id); err != nil {
				return nil, err
			}
		}
		return idItems(f.ids), nil
	}
	return nil, q.methodNotAllowed()
}

// guessesAccount tells whether a subaccounts selector names by id an
// account the call cannot see: a subaccount's cid guessed, whether or not
// it exists (the answer is the same: nothing).
func (q *request) guessesAccount(query *selector.Query) bool {
	if query.Selector == nil {
		return false
	}
	for _, id := range query.Selector.IDs() {
		if id != q.tok.CID && !q.visible(id) {
			return true
		}
	}
	return false
}

// deleteAccount removes an account that holds nothing: its objects and
// subaccounts must be deleted first, so that nothing is orphaned.
func (q *request) deleteAccount(id int64) error {
	r := q.api.Registry
	owns := func(cid int64) bool { return cid == id }
	for _, a := range r.Accounts.List() {
		if a.CID == id {
			return errf(http.StatusConflict, "account %d has subaccounts: delete them first", id)
		}
	}
	for _, c := range r.Channels.List() {
		if owns(c.CID) {
			return errf(http.StatusConflict, "account %d has channels: delete them first", id)
		}
	}
	for _, d := range r.Devices.List() {
		if owns(d.CID) {
			return errf(http.StatusConflict, "account %d has devices: delete them first", id)
		}
	}
	for _, s := range r.Streams.List() {
		if owns(s.CID) {
			return errf(http.StatusConflict, "account %d has streams: delete them first", id)
		}
	}
	for _, t := range r.Tokens.List() {
		if owns(t.CID) {
			if _, err := r.Tokens.Delete(q.ctx, t.ID); err != nil {
				return err
			}
		}
	}
	_, err := r.Accounts.Delete(q.ctx, id)
	return err
}

// The kinds of refused attempts to reach another account that API.Refused
// counts.
const (
	// RefusedAccount: a call (X-Flespi-Cid, or REST over MQTT's
	// response_cid) in an account the token may not act in.
	RefusedAccount = "rest_account"
	// RefusedObject: a call naming another account's object by id, or a
	// selector on cid matching one, or a stream subscribing to one; it
	// answers as if the object did not exist.
	RefusedObject = "rest_object"
)

// MayActIn reports whether tok may act in account cid: its own, or one of
// its subaccounts when it is allowed into them (a token without an ACL,
// or one whose ACL says subaccounts).
func (a *API) MayActIn(tok registry.Token, cid int64) bool {
	return cid == 0 || cid == tok.CID || (subaccountsAllowed(tok) && a.Registry.Within(cid, tok.CID))
}

func (a *API) refused(kind string) {
	if a.Refused != nil {
		a.Refused(kind)
	}
}

// prober tells whether a call that cannot see an object named it anyway:
// by id, or by a selector on cid that matches it. Only a selector that
// mentions cid costs rendering the objects the call cannot see, and only
// until the first match.
type prober struct {
	sel   string
	query *selector.Query
	ids   []int64
	hit   bool
}

func (p *prober) names(id int64, render func() []byte) bool {
	s := p.query.Selector
	if s == nil || s.All() {
		return false
	}
	if p.ids == nil {
		p.ids = append(s.IDs(), 0) // never empty: computed once
	}
	if slices.Contains(p.ids[:len(p.ids)-1], id) {
		return true
	}
	return strings.Contains(p.sel, "cid") && s.MatchEnv(render(), p.query.Env)
}

// pinsHidden tells whether the selector asks for an account the call
// cannot see by its cid ("cid=5", "{cid==5 && …}"), existing or not.
func (p *prober) pinsHidden(q *request) bool {
	s := p.query.Selector
	if s == nil || !strings.Contains(p.sel, "cid") {
		return false
	}
	for _, cid := range CIDs(s.Pinned("cid")) {
		if !q.visible(cid) {
			return true
		}
	}
	return false
}

// CIDs reads the account ids among the values a selector or filter
// expression compares cid with (selector.Selector.Pinned,
// filter.Expr.Pinned): whole numbers, or their text.
func CIDs(vals []filter.Value) []int64 {
	var out []int64
	for _, v := range vals {
		if f, ok := v.Float(); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			out = append(out, int64(f))
		} else if s, ok := v.Str(); ok {
			if cid, err := strconv.ParseInt(s, 10, 64); err == nil {
				out = append(out, cid)
			}
		}
	}
	return out
}
