// Command expr tries flespi expressions, REST selectors and $filter
// subscriptions from the shell, like flespi's expression tool.
//
// Evaluate an expression over JSON objects, one a line on stdin; each result
// is printed as one JSON value a line, or {"error":{"reason":…,"column":N}}:
//
//	echo '{"position.speed":72}' | go run ./examples/expr -e 'position.speed > 60' [-tz Europe/Vilnius] [-now 1700000000]
//
// Apply a selector, projection and pagination to a JSON array of items:
//
//	go run ./examples/expr -selector 'configuration.ident=1234*' [-fields id,name] [-limit 10] [-offset 0] < devices.json
//
// Check whether a message published on a topic reaches a subscription:
//
//	go run ./examples/expr -topic '$filter/payload=position.speed%3E60/flespi/message/gw/devices/+' \
//	    -publish flespi/message/gw/devices/7 -payload '{"position.speed":72}'
//
// Expressions accept a single "=" as "==", as flespi's filters do; -strict
// refuses it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/selector"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// maxInput bounds what is read from stdin: one line in -e mode, the whole
// array in -selector mode.
const maxInput = 64 << 20

type options struct {
	expr, sel, fields       string
	limit, offset           int
	topic, publish, payload string
	cid                     int64
	timestamp               float64
	tz, now                 string
	strict                  bool
}

// run is the program; it returns the exit code (0 ok, 1 failure, 2 usage).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("expr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.expr, "e", "", "expression to evaluate over each JSON object read from stdin (one a line)")
	fs.StringVar(&o.sel, "selector", "", "REST selector to apply to the JSON array read from stdin")
	fs.StringVar(&o.fields, "fields", "", "with -selector: comma-separated fields to keep")
	fs.IntVar(&o.limit, "limit", 0, "with -selector: items per page (0: all)")
	fs.IntVar(&o.offset, "offset", 0, "with -selector: items to skip")
	fs.StringVar(&o.topic, "topic", "", "subscription topic filter, e.g. $filter/cid=1/a/+")
	fs.StringVar(&o.publish, "publish", "", "with -topic: the topic a message is published on")
	fs.StringVar(&o.payload, "payload", "", "with -topic: the message payload")
	fs.Int64Var(&o.cid, "cid", 0, "with -topic: the publisher's cid (0: unknown)")
	fs.Float64Var(&o.timestamp, "timestamp", 0, "with -topic: publish time, Unix seconds (default: -now, or the clock)")
	fs.StringVar(&o.tz, "tz", "UTC", "time zone of month(), day(), hour(), minute()")
	fs.StringVar(&o.now, "now", "", "value of now(), Unix seconds (default: the clock, read once)")
	fs.BoolVar(&o.strict, "strict", false, "refuse a single '=' as equality")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	modes := 0
	for _, s := range []string{o.expr, o.sel, o.topic} {
		if s != "" {
			modes++
		}
	}
	if modes != 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "expr: give exactly one of -e, -selector or -topic")
		fs.Usage()
		return 2
	}
	env, err := o.env()
	if err != nil {
		fmt.Fprintln(stderr, "expr:", err)
		return 2
	}
	switch {
	case o.expr != "":
		return evalLines(o, env, stdin, stdout, stderr)
	case o.sel != "":
		return query(o, env, stdin, stdout, stderr)
	}
	return topic(o, env, stdout, stderr)
}

// env fixes the clock and zone for the whole run: one evaluation batch.
func (o *options) env() (*filter.Env, error) {
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return nil, fmt.Errorf("bad -tz: %w", err)
	}
	env := &filter.Env{Location: loc, Now: time.Now()}
	if o.now != "" {
		f, err := strconv.ParseFloat(o.now, 64)
		if err != nil {
			return nil, fmt.Errorf("bad -now %q: want Unix seconds", o.now)
		}
		sec := int64(f)
		env.Now = time.Unix(sec, int64((f-float64(sec))*1e9))
	}
	return env, nil
}

// errorJSON is flespi's expression-tool error shape.
func errorJSON(reason string, column int) []byte {
	type detail struct {
		Reason string `json:"reason"`
		Column int    `json:"column"`
	}
	b, _ := json.Marshal(struct {
		Error detail `json:"error"`
	}{detail{reason, column}})
	return b
}

func evalLines(o options, env *filter.Env, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg := &filter.Config{LooseEquals: !o.strict}
	x, err := cfg.Compile(o.expr)
	if err != nil {
		var se *filter.SyntaxError
		if errors.As(err, &se) {
			fmt.Fprintf(stdout, "%s\n", errorJSON(se.Msg, se.Column))
			fmt.Fprintf(stderr, "expr: %v\n%s\n", err, se.Snippet())
		} else {
			fmt.Fprintf(stdout, "%s\n", errorJSON(err.Error(), 0))
		}
		return 1
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	r := bufio.NewReaderSize(stdin, 64<<10)
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "expr: reading stdin:", err)
			return 1
		}
		line = append(line, chunk...)
		if isPrefix {
			if len(line) > maxInput {
				fmt.Fprintln(stderr, "expr: input line longer than", maxInput, "bytes")
				return 1
			}
			continue
		}
		obj := bytes.TrimSpace(line)
		line = line[:0]
		if len(obj) == 0 {
			continue
		}
		if obj[0] != '{' || !json.Valid(obj) {
			out.Write(errorJSON("input is not a JSON object", 0))
			out.WriteByte('\n')
			continue
		}
		v := x.EvalJSON(obj, env)
		if err := v.Err(); err != nil {
			var ee *filter.EvalError
			errors.As(err, &ee)
			out.Write(errorJSON(ee.Reason, ee.Offset+1))
		} else {
			out.Write(v.AppendJSON(nil))
		}
		out.WriteByte('\n')
	}
}

func query(o options, env *filter.Env, stdin io.Reader, stdout, stderr io.Writer) int {
	sel, err := selector.Parse(o.sel)
	if err != nil {
		return fail(stderr, "bad -selector", err)
	}
	fields, err := selector.ParseFields(o.fields)
	if err != nil {
		return fail(stderr, "bad -fields", err)
	}
	if o.limit < 0 || o.offset < 0 {
		fmt.Fprintln(stderr, "expr: -limit and -offset must not be negative")
		return 2
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
	if err != nil {
		fmt.Fprintln(stderr, "expr: reading stdin:", err)
		return 1
	}
	if len(data) > maxInput {
		fmt.Fprintln(stderr, "expr: input longer than", maxInput, "bytes")
		return 1
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		fmt.Fprintln(stderr, "expr: stdin must hold a JSON array of objects:", err)
		return 1
	}
	items := make([][]byte, len(raws))
	for i, r := range raws {
		items[i] = r
	}
	q := &selector.Query{Selector: sel, Fields: fields, Limit: o.limit, Offset: o.offset, Env: env}
	stdout.Write(append(q.Apply(items), '\n'))
	return 0
}

func topic(o options, env *filter.Env, stdout, stderr io.Writer) int {
	tf, err := filter.ParseTopicFilter(o.topic)
	if err != nil {
		return fail(stderr, "bad -topic", err)
	}
	if o.publish == "" || strings.ContainsAny(o.publish, "+#") {
		fmt.Fprintln(stderr, "expr: -topic needs -publish, a topic name without wildcards")
		return 2
	}
	ts := o.timestamp
	if ts == 0 {
		ts = float64(env.Now.UnixNano()) / 1e9
	}
	m := filter.TopicMessage{Topic: o.publish, Payload: []byte(o.payload), CID: o.cid, Timestamp: ts}
	// Routing by topic first, then the $filter conditions, as a broker does.
	ok := tf.MatchTopic(o.publish) && tf.MatchEnv(m, env)
	fmt.Fprintln(stdout, ok)
	return 0
}

func fail(stderr io.Writer, what string, err error) int {
	fmt.Fprintf(stderr, "expr: %s: %v\n", what, err)
	var se *filter.SyntaxError
	if errors.As(err, &se) {
		fmt.Fprintln(stderr, se.Snippet())
	}
	return 1
}
