// Package traffic reads and writes captured device traffic as plain hex
// text: the format channels record raw traffic in, that the decode tool
// (-f) replays, and that protocoltest golden files hold in frame.hex.
//
// The format is line-based and meant to be read and edited by people:
//
//	# comments run from '#' to the end of the line
//	2026-11-22T10:15:04.120Z > 000f333536333037303432343431303133
//	2026-11-22T10:15:04.121Z < 01
//	> 00000000 00000036 08 01 ...   device to server, no time
//	000000000000003608...           a bare hex line is device to server
//
// Each line is one chunk: one read from a TCP connection or one UDP datagram.
// '>' marks bytes from the device, '<' bytes sent to it; an optional RFC 3339
// time comes first. Spaces inside the hex are ignored.
//
// A proxy channel (package channel) also records its side of the
// conversation with the upstream servers it forwards devices to: "u1>"
// marks bytes the server forwarded to upstream 1, "u1<" bytes upstream 1
// sent back (the device's '<' lines show what of them reached it):
//
//	2026-11-22T10:15:04.120Z > 000f333536333037303432343431303133
//	2026-11-22T10:15:04.121Z u1> 000f333536333037303432343431303133
//	2026-11-22T10:15:04.170Z u1< 01
//	2026-11-22T10:15:04.170Z < 01
//
// Readers that replay a device ([Inbound], the decode tool, golden files)
// take the '>' lines only.
package traffic
