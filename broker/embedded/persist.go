package embedded

// persistence is where the broker keeps what must outlive its process:
// sessions (subscriptions, expiry, will), the messages queued and in flight
// for them, the QoS 2 packet IDs they are receiving, and retained messages.
//
// The working state is always in memory — sessions and their queues, the
// topic tree, the retained tree — and is what the broker reads. persistence
// records its changes, in the order the broker makes them, and gives them
// back when a server starts. Without a data directory it is memoryState,
// which records nothing and completes every change at once, on the caller's
// goroutine; with one it is durableState (durable.go), which completes
// changes after the group commit that made them durable, on its writer's
// goroutine (completions that may wait for a client are run by the caller
// instead, see saveSession).
//
// Methods taking a completion (routed.deliver and finish, done) call it once
// the change is committed; completions run in commit order. Every method
// may be called concurrently, without locks held.
type persistence interface {
	// publish commits a routed message — its deliveries, the retained
	// message it set or deleted, the inbound QoS 2 packet ID — then queues
	// the deliveries for their sessions (r.deliver) and acknowledges the
	// publisher (r.finish). A routed with no message only acknowledges,
	// after every earlier publish.
	publish(r routed)
	// saveSession records se's lasting state (expiry, will, subscriptions),
	// then calls done (if not nil).
	saveSession(se *session, done func())
	// dropSession forgets se and everything queued for it.
	dropSession(se *session)
	// acked forgets a delivery the client acknowledged (PUBACK, PUBCOMP,
	// or a PUBREC with an error code) or that could not be sent.
	acked(se *session, o *outbound)
	// released records that the client received the QoS 2 delivery o
	// (PUBREC), then calls done, which sends the PUBREL.
	released(se *session, o *outbound, done func())
	// releasedIn records that the client released its QoS 2 publish id
	// (PUBREL): the ID may name a new message from now on. Then it calls
	// done, which sends the PUBCOMP.
	releasedIn(se *session, id uint16, done func())
	// close commits what is pending and releases the store.
	close() error
}

// memoryState is the persistence of a broker without a data directory:
// nothing outlives the process.
type memoryState struct{}

func (memoryState) publish(r routed) {
	r.deliver()
	r.finish()
}

func (memoryState) saveSession(_ *session, done func()) {
	if done != nil {
		done()
	}
}

func (memoryState) dropSession(*session)                          {}
func (memoryState) acked(*session, *outbound)                     {}
func (memoryState) released(_ *session, _ *outbound, done func()) { done() }
func (memoryState) releasedIn(_ *session, _ uint16, done func())  { done() }
func (memoryState) close() error                                  { return nil }
