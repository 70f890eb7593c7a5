package pebble_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/pebble"
)

func position(ident string, ts, lat, lon float64) protocol.Message {
	var m protocol.Message
	m.SetString("ident", ident)
	m.SetFloat("timestamp", ts)
	m.SetFloat("position.latitude", lat)
	m.SetFloat("position.longitude", lon)
	return m
}

// Open a store, append a batch durably (only then may the tracker be
// acknowledged), and read it back as a named consumer.
func Example() {
	dir, err := os.MkdirTemp("", "gnssgate-store")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := pebble.Open(dir, nil) // nil: defaults (30-day log, no size cap)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	first, err := db.Log().Append(ctx, []protocol.Message{
		position("356307042441013", 1700000000, 54.6872, 25.2797),
		position("356307042441013", 1700000010, 54.6880, 25.2801),
	})
	if err != nil {
		log.Fatal(err) // store.ErrFull: do not acknowledge; the tracker resends
	}
	fmt.Println("stored from seq", first)

	// A consumer starts where it left off, or at the beginning.
	next, err := db.Log().Cursor(ctx, "mqtt")
	if err != nil {
		next = 1 // store.ErrNotFound: a new consumer
	}
	recs, err := db.Log().Read(ctx, next, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println(r.Seq, r.Message.String())
	}
	if err := db.Log().Commit(ctx, "mqtt", recs[len(recs)-1].Seq+1); err != nil {
		log.Fatal(err)
	}
	st, _ := db.Log().Stats(ctx)
	fmt.Println("lag of mqtt:", st.Consumers[0].Lag)
	// Output:
	// stored from seq 1
	// 1 {"ident":"356307042441013","timestamp":1700000000,"position.latitude":54.6872,"position.longitude":25.2797}
	// 2 {"ident":"356307042441013","timestamp":1700000010,"position.latitude":54.688,"position.longitude":25.2801}
	// lag of mqtt: 0
}

// A consumer loop: read what is there, process, commit, and wait for more
// instead of polling. ReadInto refills one page of records, so reading
// allocates nothing per record beyond new string values.
func ExampleDB_Log_consumer() {
	dir, _ := os.MkdirTemp("", "gnssgate-store")
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	go func() { // the channel side
		for i := range 3 {
			db.Log().Append(ctx, []protocol.Message{position("dev", float64(1700000000+i), 54, 25)})
		}
	}()

	l := db.Log()
	page := make([]store.Record, 100)
	next := uint64(1)
	for done := 0; done < 3; {
		if _, err := l.Wait(ctx, next-1); err != nil {
			log.Fatal(err)
		}
		n, err := l.ReadInto(ctx, next, page)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range page[:n] {
			ts, _ := r.Message.Timestamp()
			fmt.Println("forwarded", r.Seq, ts)
			done++
		}
		next = page[n-1].Seq + 1
		if err := l.Commit(ctx, "stream", next); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// forwarded 1 1.7e+09
	// forwarded 2 1.700000001e+09
	// forwarded 3 1.700000002e+09
}

// Device history in flespi's shape: the newest two positions of a device.
func ExampleDB_Messages() {
	dir, _ := os.MkdirTemp("", "gnssgate-store")
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	db.Messages().Store(ctx, []protocol.Message{
		position("dev", 1700000000, 54.1, 25.1),
		position("dev", 1700000020, 54.3, 25.3),
		position("dev", 1700000010, 54.2, 25.2), // late, from the black box
	})
	msgs, err := db.Messages().Query(ctx, "dev", store.Query{
		Count: 2, Reverse: true, Fields: []string{"timestamp", "position.latitude"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Println(m.String())
	}
	// Output:
	// {"timestamp":1700000020,"position.latitude":54.3}
	// {"timestamp":1700000010,"position.latitude":54.2}
}

// Telemetry keeps the newest value per parameter, by device time.
func ExampleDB_Telemetry() {
	dir, _ := os.MkdirTemp("", "gnssgate-store")
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	stop := db.Telemetry().Watch(func(c store.TelemetryChange) {
		for _, v := range c.Values {
			if v.Name == "position.latitude" {
				fmt.Println("publish", c.Ident, v.Name, v.Value, v.Time)
			}
		}
	})
	defer stop()
	db.Telemetry().Update(ctx, []protocol.Message{position("dev", 1700000020, 54.3, 25.3)})
	db.Telemetry().Update(ctx, []protocol.Message{position("dev", 1700000000, 54.1, 25.1)}) // older: ignored
	vs, _ := db.Telemetry().Get(ctx, "dev", "position.*")
	for _, v := range vs {
		fmt.Println(v.Name, v.Value, v.Time)
	}
	// Output:
	// publish dev position.latitude 54.3 1.70000002e+09
	// position.latitude 54.3 1.70000002e+09
	// position.longitude 25.3 1.70000002e+09
}
