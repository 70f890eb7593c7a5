package filter_test

import (
	"fmt"

	"github.com/gnssgate/gnssgate/filter"
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
