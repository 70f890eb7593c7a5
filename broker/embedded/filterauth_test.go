package embedded

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
)

// filterAuth is a FilterAuthorizer that records the filters it sees and
// refuses those whose $filter spec says "deny".
type filterAuth struct {
	TokenAuthorizer
	mu   sync.Mutex
	seen []string
}

func (a *filterAuth) AuthorizeFilter(_ context.Context, _ *Client, f *broker.Filter) error {
	a.mu.Lock()
	a.seen = append(a.seen, f.String())
	a.mu.Unlock()
	if strings.Contains(f.Spec(), "deny") {
		return broker.ErrNotAuthorized
	}
	return nil
}

// An Authorizer that is a FilterAuthorizer sees each subscription's
// whole filter, $share group and $filter spec included, and its errors
// refuse the filter as Authorize's do.
func TestFilterAuthorizer(t *testing.T) {
	auth := &filterAuth{}
	_, addr := startServer(t, &Config{AllowAnonymous: true, Authorizer: auth})
	c, _ := dialPaho(t, addr, nil)
	sa := c.sub(t, paho.SubscribeOptions{Topic: "$share/g/$filter/cid=5/a/#", QoS: 1},
		paho.SubscribeOptions{Topic: "$filter/message=deny/b", QoS: 1}, paho.SubscribeOptions{Topic: "c/+", QoS: 0})
	if len(sa.Reasons) != 3 || sa.Reasons[0] != 1 || sa.Reasons[1] != 0x87 || sa.Reasons[2] != 0 {
		t.Fatalf("SUBACK %v, want [1 0x87 0]", sa.Reasons)
	}
	auth.mu.Lock()
	defer auth.mu.Unlock()
	if got := strings.Join(auth.seen, " "); got != "$share/g/$filter/cid=5/a/# $filter/message=deny/b c/+" {
		t.Fatalf("AuthorizeFilter saw %s", got)
	}
}
