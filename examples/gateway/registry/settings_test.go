package registry_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

func ptr(s string) *string { return &s }

// Settings survive a restart: they are in the KV, not in memory.
func TestSettingsDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kv, err := registry.OpenPebbleKV(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := open(t, kv)
	st, err := r.Settings().Update(ctx, 7, "2001", func(s *registry.Setting) error {
		s.Pending, s.Requested = ptr("internet"), 1_800_000_000
		return nil
	})
	if err != nil || st.DeviceID != 7 || st.Name != "2001" || *st.Pending != "internet" {
		t.Fatalf("Update = %+v, %v", st, err)
	}
	r.Settings().Update(ctx, 7, "1000", func(s *registry.Setting) error { s.Current = ptr("30"); return nil })
	r.Settings().Update(ctx, 8, "1000", func(s *registry.Setting) error { s.Current = ptr("60"); return nil })
	r.Close()
	kv.Close()

	kv, err = registry.OpenPebbleKV(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	r = open(t, kv)
	got, err := r.Settings().Get(ctx, 7, "2001")
	if err != nil || got.Pending == nil || *got.Pending != "internet" || got.Current != nil {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	list, err := r.Settings().List(ctx, 7)
	if err != nil || len(list) != 2 || list[0].Name != "1000" || list[1].Name != "2001" {
		t.Fatalf("List(7) = %+v, %v", list, err)
	}
	if all, _ := r.Settings().List(ctx, 0); len(all) != 3 {
		t.Fatalf("List(0) = %+v", all)
	}
	if err := r.Settings().DeleteDevice(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Settings().Get(ctx, 7, "2001"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("after DeleteDevice: %v", err)
	}
	if list, _ := r.Settings().List(ctx, 8); len(list) != 1 {
		t.Fatalf("another device's settings went too: %+v", list)
	}
}

// Concurrent updates of one setting are applied one after the other.
func TestSettingsUpdateCompareAndSet(t *testing.T) {
	ctx := context.Background()
	r := open(t, registry.NewMemoryKV())
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Settings().Update(ctx, 1, "n", func(s *registry.Setting) error {
				v := "x"
				if s.Current != nil {
					v = *s.Current + "x"
				}
				s.Current = &v
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, _ := r.Settings().Get(ctx, 1, "n")
	if st.Current == nil || *st.Current != "xxxxxxxxxx" {
		t.Fatalf("current %v: an update was lost", st.Current)
	}
	// A failing fn changes nothing.
	boom := errors.New("boom")
	if _, err := r.Settings().Update(ctx, 1, "n", func(s *registry.Setting) error { s.Current = nil; return boom }); err != boom {
		t.Fatal(err)
	}
	if st, _ := r.Settings().Get(ctx, 1, "n"); st.Current == nil {
		t.Fatal("a failed update was stored")
	}
}

func TestSettingNames(t *testing.T) {
	for _, ok := range []string{"2001", "apn", "digital_out.1", "a-b"} {
		if err := registry.ValidSettingName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "a+", "#", "a b", "é", string(make([]byte, 65))} {
		var ve *registry.ValidationError
		if err := registry.ValidSettingName(bad); !errors.As(err, &ve) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Watch reports each write with the setting as written and each deletion
// with nil, naming the device and the setting.
func TestSettingsWatch(t *testing.T) {
	ctx := context.Background()
	r := open(t, registry.NewMemoryKV())
	type change struct {
		device  int64
		name    string
		pending string // "" when none; "-" for a deletion
	}
	var mu sync.Mutex
	var got []change
	stop := r.Settings().Watch(func(id int64, name string, st *registry.Setting) {
		c := change{device: id, name: name, pending: "-"}
		if st != nil {
			c.pending = ""
			if st.Pending != nil {
				c.pending = *st.Pending
			}
		}
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})
	defer stop()
	r.Settings().Update(ctx, 12, "digital_out.1", func(s *registry.Setting) error { s.Pending = ptr("1"); return nil })
	r.Settings().Update(ctx, 12, "digital_out.1", func(s *registry.Setting) error { s.Pending, s.Current = nil, ptr("1"); return nil })
	r.Settings().Delete(ctx, 12, "digital_out.1")
	want := []change{{12, "digital_out.1", "1"}, {12, "digital_out.1", ""}, {12, "digital_out.1", "-"}}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("watched %v, want %v", got, want)
	}
}
