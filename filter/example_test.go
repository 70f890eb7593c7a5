package filter_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/protocol"
)

func ExampleCompile() {
	x, err := filter.Compile(`position.speed>60 && engine.ignition.status==true && device.name=="car*"`)
	if err != nil {
		panic(err)
	}
	msg := []byte(`{"device.name":"car-17","position.speed":72,"engine.ignition.status":true}`)
	fmt.Println(x)
	fmt.Println(x.MatchJSON(msg, nil))
	fmt.Println(x.EvalJSON([]byte(`{"position.speed":72}`), nil).Err())
	// Output:
	// position.speed > 60 && engine.ignition.status == true && device.name == "car*"
	// true
	// parameter 'engine.ignition.status' not found (column 22)
}

func ExampleParseTopicFilter() {
	f, err := filter.ParseTopicFilter("$share/workers/$filter/payload=position.speed%3E60/flespi/message/gw/devices/+")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Share, f.Topic)
	fmt.Println(f.MatchTopic("flespi/message/gw/devices/42"))
	fmt.Println(f.Match(filter.TopicMessage{Topic: "flespi/message/gw/devices/42", Payload: []byte(`{"position.speed":72}`)}))
	fmt.Println(f.Match(filter.TopicMessage{Topic: "flespi/message/gw/devices/42", Payload: []byte(`{"position.speed":50}`)}))
	// Output:
	// workers flespi/message/gw/devices/+
	// true
	// true
	// false
}

func ExampleSyntaxError() {
	_, err := filter.Compile(`speed > (1 + 2))`)
	fmt.Println(err)
	fmt.Println(err.(*filter.SyntaxError).Snippet())
	// Output:
	// unexpected ')' (1:16)
	//  | speed > (1 + 2))
	//  |                ^
}

// A struct-backed Source, and a custom function with an injected clock.
func ExampleConfig_Compile() {
	cfg := &filter.Config{
		LooseEquals: true,
		Funcs: []filter.Func{{
			Name: "double", Usage: "double(x)", Description: "twice x", MinArgs: 1, MaxArgs: 1,
			Call: func(_ *filter.Env, args []filter.Value) filter.Value {
				f, ok := args[0].Float()
				if !ok {
					return filter.Errorf("double() wants a number")
				}
				return filter.Number(2 * f)
			},
		}},
	}
	x, err := cfg.Compile(`double(Value) >= 200 && Origin = "MOW" && now() > 1e9`)
	if err != nil {
		panic(err)
	}
	env := &filter.Env{Now: time.Unix(1700000000, 0)} // one per batch
	src := filter.SourceFunc(func(name string) (filter.Value, bool) {
		switch name {
		case "Origin":
			return filter.String("MOW"), true
		case "Value":
			return filter.Number(100), true
		}
		return filter.Value{}, false
	})
	fmt.Println(x, x.Match(src, env))
	// Output:
	// double(Value) >= 200 && Origin == "MOW" && now() > 1000000000 true
}

func ExampleExpr_EvalObject() {
	x := filter.MustCompile(`configuration.ident == "3526*" && telemetry.position.speed.value > 50`)
	dev := []byte(`{"id":7,"configuration":{"ident":"352625066004561"},"telemetry":{"position.speed":{"value":72,"ts":1700000000}}}`)
	fmt.Println(x.EvalObject(dev, nil))
	// Output:
	// true
}

func ExampleExpr_MatchMessage() {
	var m protocol.Message
	m.SetString("ident", "352625066004561")
	m.SetFloat("position.speed", 72.5)
	m.SetBool("engine.ignition.status", true)
	x := filter.MustCompile(`position.speed > 60 && engine.ignition.status && $din == null`)
	fmt.Println(x.MatchMessage(&m, nil))
	// Output:
	// true
}

func ExampleCatalogue() {
	for _, f := range filter.Catalogue()[:3] {
		fmt.Printf("%s %s %d..%d\n", f.Name, f.Usage, f.Arguments.Min, f.Arguments.Max)
	}
	// Output:
	// abs abs(x) 1..1
	// ceil ceil(x) 1..1
	// day day([time]) 0..1
}

// A hostile pattern against a long value gives up at the step budget
// instead of costing the product of their lengths.
func ExampleExpr_CheckJSON() {
	x, err := (&filter.Config{Limits: filter.Limits{MaxSteps: 10_000}}).Compile(`name == "*aaaaaaaaaaaaaaaab?"`)
	if err != nil {
		panic(err)
	}
	long := []byte(`{"name":"` + strings.Repeat("a", 5000) + `"}`)
	fmt.Println(x.CheckJSON(long, nil, nil))
	fmt.Println(x.CheckJSON([]byte(`{"name":"xaaaaaaaaaaaaaaaabc"}`), nil, nil))
	// Output:
	// false filter: evaluation over its step budget
	// true <nil>
}
