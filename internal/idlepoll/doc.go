// Package idlepoll parks idle network connections so that they cost no
// goroutine and no buffer while nothing arrives.
//
// A server with tens of thousands of mostly silent clients (MQTT devices,
// GNSS trackers) would otherwise keep one goroutine per connection waiting
// in a read, with its stack (2–8 KB) and whatever read buffer it holds. With
// idlepoll the connection's goroutine, when a nonblocking read finds
// nothing, calls Socket.Park and returns; one shared goroutine waits on all
// parked sockets with epoll(7) and, when one becomes readable (or hangs up),
// starts the connection's wake function in a new goroutine, which reads
// what arrived and parks again. Active connections keep using Go's own
// network poller in between.
//
// Only sockets can be parked: For takes the connection whose descriptor is
// watched (for TLS, tls.Conn.NetConn; for a WebSocket, the hijacked
// connection), and returns nil where there is no poller (outside Linux) or
// no socket, and the caller then reads as before, blocking a goroutine.
//
// The contract, for the connection's owner:
//   - Park only when the connection has nothing buffered (its own buffers,
//     and those of any layer above the socket such as TLS);
//   - after Park returns true the goroutine must not touch the connection:
//     it belongs to the wake function, which may already be running;
//   - call Stop before closing the connection; it wakes a parked owner, who
//     then sees the closed connection in its next read;
//   - deadlines are the owner's: Socket.WakeAt(t) wakes a parked owner at
//     its read deadline, and the woken owner sees the timeout in its next
//     read. Every socket's deadline is an entry in one heap served by a
//     single timer, instead of a time.Timer per connection (~180 bytes with
//     its closure; an entry costs 12 bytes in the Socket and a heap slot).
//
// # Released sockets
//
// A parked *net.TCPConn still costs ~600 bytes the owner does not need
// while nothing arrives: net's descriptor and both addresses in the heap,
// the runtime's poll descriptor outside it. Socket.Release closes the
// net.Conn and keeps a duplicate of its descriptor, which the poller
// watches; Socket.Revive makes a net.Conn again (net.FileConn) for whoever
// needs the connection next. The owner serialises its own uses of the
// net.Conn with those two (nobody may be writing when it releases), and
// must set the read and write deadlines of a revived net.Conn again.
// Release and Revive each need one descriptor more for a moment (a dup);
// at the process's descriptor limit they fail, Release harmlessly, Revive
// by leaving the owner without a connection, which it then ends. A
// released socket costs a few system calls per park and wake (~40 µs in
// BenchmarkParkWakeReleased against BenchmarkParkWake), which is why
// owners park only after a delay without input.
package idlepoll
