package selector_test

import (
	"fmt"
	"net/url"

	"github.com/gnssgate/gnssgate/selector"
)

func ExampleParse() {
	sel, err := selector.Parse(`configuration.ident=1234*,{device_type_id == 42 || name = "my tracker"}`)
	if err != nil {
		panic(err)
	}
	fmt.Println(sel)
	fmt.Println(sel.Match([]byte(`{"id":1,"name":"truck","device_type_id":42,"configuration":{"ident":"1234567"}}`)))
	fmt.Println(sel.Match([]byte(`{"id":2,"name":"truck","device_type_id":42,"configuration":{"ident":"7654321"}}`)))
	// Output:
	// configuration.ident=1234*,{device_type_id == 42 || name == "my tracker"}
	// true
	// false
}

func ExampleQuery() {
	u, _ := url.Parse(`/gw/devices/%7Bid%2F3%3C1%7D?fields=id,configuration.ident&limit=1`)
	segs, _ := selector.SplitPath(u.EscapedPath())
	q, err := selector.ParseQuery(segs[2], u.Query())
	if err != nil {
		panic(err)
	}
	items := [][]byte{
		[]byte(`{"id":1,"name":"a","configuration":{"ident":"111","phone":"+1"}}`),
		[]byte(`{"id":2,"name":"b","configuration":{"ident":"222"}}`),
		[]byte(`{"id":3,"name":"c","configuration":{"ident":"333"}}`),
	}
	fmt.Println(segs)
	fmt.Println(string(q.Apply(items)))
	// Output:
	// [gw devices {id/3<1}]
	// {"result":[{"id":1,"configuration":{"ident":"111"}}],"pagination":{"limit":1,"offset":0,"count":2}}
}
