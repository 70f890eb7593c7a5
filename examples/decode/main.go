// Command decode runs a tracker protocol codec over captured traffic and
// prints the decoded messages as JSON, one a line, with flespi parameter
// names: the quickest way to see what a device sent.
//
//	go run ./examples/decode -p teltonika 000f333536333037303432343431303133 000000000000003608...
//	go run ./examples/decode -p wialon-ips -text '#L#2.0;356307042441013;NA;CF2A' -replies
//	go run ./examples/decode -p gt06 -f capture.hex -lenient
//
// HEX arguments, or the lines of the -f file (the protocol/traffic format: hex
// with white space and '#' comments; '<' lines, bytes sent to the device, are
// skipped), are one connection's byte stream in order: the file first, then
// the arguments. With -transport udp each argument or line is one datagram.
// -text LINE adds a text line (CR LF is appended when missing). With
// -replies, every reply the server would send is written to stderr as
// "reply: <hex>". Protocols spoken over HTTP (osmand) take raw requests
// instead, with -http (the request line, headers and body; "\r\n" and
// "\n" written out in the argument are read as line ends):
//
//	go run ./examples/decode -p osmand -http 'GET /?id=12345&lat=48.8566&lon=2.3522&timestamp=1609459200 HTTP/1.1'

// The -f input is decoded as it is read, one line at a time: memory stays
// bounded whatever its size, and output appears as soon as a frame is
// complete, so it can follow a live capture:
//
//	tail -f traffic/356307042441013/session.hex | go run ./examples/decode -p teltonika -f -
//
// Exit status: 0 on success; 1 on bad input (hex that does not parse, a line
// longer than 1 MiB, a frame the codec rejects), with one line naming the
// reason and where (the byte offset in the stream, or the line of the file);
// 2 on bad usage (flags, protocol name, no input, a file that cannot be
// opened).
package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		name      = fs.String("p", "", "protocol `name` (see -list)")
		list      = fs.Bool("list", false, "print the protocol names, one a line, and exit")
		transport = fs.String("transport", "tcp", "tcp (arguments are one byte stream) or udp (each is a datagram)")
		lenient   = fs.Bool("lenient", false, "keep frames whose checksum or length is wrong, marking their messages")
		replies   = fs.Bool("replies", false, "write each reply the server would send to stderr as 'reply: <hex>'")
		file      = fs.String("f", "", "read hex traffic from `file` ('-' for stdin)")
		texts     multiFlag
		requests  multiFlag
	)
	fs.Var(&texts, "text", "a text `line` for text protocols (repeatable)")
	fs.Var(&requests, "http", "a raw HTTP `request` for HTTP protocols (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: decode -p PROTOCOL [-transport tcp|udp] [-lenient] [-replies] [-f FILE] [-text LINE]... [HEX...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, n := range listNames() {
			fmt.Fprintln(stdout, n)
		}
		return 0
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "decode: "+format+"\n", a...)
		return 2
	}
	if dec, ok := codecs.NewHTTP(*name, codecs.Options{Lenient: *lenient}); ok {
		if len(requests) == 0 || len(fs.Args()) > 0 || len(texts) > 0 || *file != "" {
			return usage("protocol %s is spoken over HTTP: give its requests with -http", *name)
		}
		return decodeHTTP(dec, requests, stdout, stderr)
	}
	codec, ok := codecs.New(*name, codecs.Options{Lenient: *lenient})
	if !ok {
		if *name == "" {
			return usage("-p PROTOCOL is required (see -list)")
		}
		return usage("unknown protocol %q (see -list)", *name)
	}
	tr, ok := protocol.ParseTransport(*transport)
	if !ok {
		return usage("-transport must be tcp or udp, not %q", *transport)
	}
	if len(requests) > 0 {
		return usage("protocol %s does not take HTTP requests", *name)
	}

	// The -f input is decoded as it is read, a line at a time, so memory
	// stays bounded however long it is, and output appears while a live
	// capture is still being written (tail -f capture.hex | decode -f -).
	var src io.Reader
	if *file != "" {
		src = stdin
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return usage("%v", err)
			}
			defer f.Close()
			src = f
		}
	}
	var extra [][]byte
	for _, a := range fs.Args() {
		b, err := traffic.ParseHex(a)
		if err != nil {
			return badInput(stderr, fmt.Errorf("bad hex argument %.40q: %w", a, err))
		}
		extra = append(extra, b)
	}
	for _, t := range texts {
		if !strings.HasSuffix(t, "\n") {
			t += "\r\n"
		}
		extra = append(extra, []byte(t))
	}
	if src == nil && len(extra) == 0 {
		return usage("no input: give HEX arguments, -f FILE or -text LINE")
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var in *traffic.Reader
	if src != nil {
		// Whatever was decoded reaches stdout before the next read, which
		// may wait for the capture to grow.
		in = traffic.NewReader(flushBeforeRead{r: src, w: out})
	}
	var line []byte
	emit := func(_ []byte, r *protocol.Result) error {
		for i := range r.Messages {
			line = r.Messages[i].AppendJSON(line[:0])
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil {
				return err
			}
		}
		for _, resp := range r.Responses {
			fmt.Fprintf(stderr, "response: %q", resp.Text)
			if len(resp.Data) > 0 {
				fmt.Fprintf(stderr, " data %x", resp.Data)
			}
			if resp.HasID {
				fmt.Fprintf(stderr, " id %d", resp.ID)
			}
			fmt.Fprintln(stderr)
		}
		if *replies && len(r.Reply) > 0 {
			out.Flush() // keep stdout and stderr in step for a reader of both
			fmt.Fprintf(stderr, "reply: %s\n", hex.EncodeToString(r.Reply))
		}
		return nil
	}
	d := protocol.NewStreamDecoder(codec, tr, 0)
	fed := len(extra)
	if in != nil {
		for {
			c, err := in.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				out.Flush()
				return badInput(stderr, fmt.Errorf("%s: %w", *file, err))
			}
			if c.Dir != traffic.In {
				continue
			}
			fed++
			if err := d.Feed(c.Data, emit); err != nil {
				return fail(out, stderr, err)
			}
		}
	}
	if fed == 0 {
		return usage("no input: %s holds no bytes from the device", *file)
	}
	for _, c := range extra {
		if err := d.Feed(c, emit); err != nil {
			return fail(out, stderr, err)
		}
	}
	if err := d.Finish(emit); err != nil {
		return fail(out, stderr, err)
	}
	return 0
}

// listNames is what -list prints: the byte-stream codecs and the
// protocols served over HTTP.
func listNames() []string {
	names := append(codecs.Names(), codecs.HTTPNames()...)
	slices.Sort(names)
	return names
}

// decodeHTTP reads each raw request with net/http's ReadRequest and
// prints the messages the protocol's decoder makes of it.
func decodeHTTP(dec codecs.HTTPDecoder, requests []string, stdout, stderr io.Writer) int {
	for i, raw := range requests {
		raw = strings.NewReplacer(`\r\n`, "\r\n", `\n`, "\n").Replace(raw)
		if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "http") {
			raw = "GET " + raw // a bare URL
		}
		head, _, _ := strings.Cut(raw, "\n")
		if !strings.Contains(head, " HTTP/") {
			raw = strings.TrimRight(head, "\r") + " HTTP/1.1" + raw[len(head):]
		}
		if !strings.Contains(raw, "\n\n") && !strings.Contains(raw, "\r\n\r\n") {
			raw += "\r\n\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return badInput(stderr, fmt.Errorf("request %d: %w", i+1, err))
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			return badInput(stderr, fmt.Errorf("request %d: body: %w", i+1, err))
		}
		msgs, err := dec.DecodeRequest(req, body)
		if err != nil {
			return badInput(stderr, fmt.Errorf("request %d: %w", i+1, err))
		}
		for j := range msgs {
			fmt.Fprintf(stdout, "%s\n", msgs[j].AppendJSON(nil))
		}
	}
	return 0
}

func fail(out *bufio.Writer, stderr io.Writer, err error) int {
	out.Flush()
	return badInput(stderr, err) // a *protocol.DecodeError names protocol, offset and reason
}

// badInput reports input that cannot be decoded: exit status 1.
func badInput(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "decode: %v\n", err)
	return 1
}

// flushBeforeRead flushes w before each read of r: the output of what was
// read so far is out before the program waits for more input.
type flushBeforeRead struct {
	r io.Reader
	w *bufio.Writer
}

func (f flushBeforeRead) Read(p []byte) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}
