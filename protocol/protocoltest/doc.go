// Package protocoltest tests a codec against captured traffic, for codecs in
// this module and for anyone who writes or patches one.
//
// A case is one txtar file in testdata: a provenance header, the traffic in
// frame.hex, and golden messages.json and reply.hex (see [Case]). [RunDir]
// runs them all; go test -update rewrites the goldens after a reviewed change.
// Every case is also fed in every split and one byte at a time
// ([CheckChunked]) and cut at every length ([CheckTruncated]): a codec must
// give the same messages however TCP slices the stream, and a short frame
// must be "need more data" or a clean error, never a panic.
//
// [Fuzz] turns the same cases into the seed corpus of a go test -fuzz target:
//
//	func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }
//
// [Benchmark] is every codec's decoding benchmark: one frame decoded into a
// reused Result on a session set up by the frames before it, framed first
// or not, with the bytes and allocations per op reported:
//
//	func BenchmarkDecode(b *testing.B) {
//		protocoltest.Benchmark(b, protocoltest.Bench{Codec: &Codec{}, Frame: frame, Messages: 1})
//	}
//
// # Turning a device's traffic into a test
//
// A channel records raw traffic in the [traffic] format. Copy the device's
// lines into a new case's frame.hex, write the Source line (where the capture
// came from) and what the device's documentation states as Want lines, run
// go test -run TestGolden/NAME -update, review the goldens, and commit.
package protocoltest
