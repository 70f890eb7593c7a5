package embedded

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// A session record keeps every subscription's options and the namespace a
// subscription was taken in (a parent account's subscription into a
// subaccount's space): without it a restart delivered topics with the
// namespace prefix still on.
func TestSessionRecordRoundTrip(t *testing.T) {
	space := "$accounts/7/"
	rec := &sessionRecord{gen: 9, expiry: 300, offlineAt: time.Unix(1700000000, 0),
		subs: []subRecord{
			{filter: "a/+", qos: 1, id: 5},
			{filter: "$accounts/7/b/#", qos: 2, noLocal: true, rap: true, rh: 2, space: &space},
		}}
	got, err := decodeSession(appendSession(nil, rec))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("got %+v\nwant %+v", got, rec)
	}
	if got.subs[1].space == nil || *got.subs[1].space != space || got.subs[0].space != nil {
		t.Fatalf("spaces: %v, %v", got.subs[0].space, got.subs[1].space)
	}
}

// Stored records are read back at Open: a corrupt one is an error, never
// a panic, and what decodes encodes to the same bytes.
func FuzzDecodeSession(f *testing.F) {
	space := "$accounts/1/"
	f.Add(appendSession(nil, &sessionRecord{gen: 1, subs: []subRecord{{filter: "x", qos: 1}}}))
	f.Add(appendSession(nil, &sessionRecord{gen: 2, expiry: 60, subs: []subRecord{{filter: "$accounts/1/y/#", qos: 2, space: &space}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeSession(b)
		if err != nil || rec.will != nil {
			return // wills carry a message whose encoding is not canonical
		}
		again := appendSession(nil, rec)
		if back, err := decodeSession(again); err != nil || !bytes.Equal(appendSession(nil, back), again) {
			t.Fatalf("re-encoding %x: %v", b, err)
		}
	})
}
