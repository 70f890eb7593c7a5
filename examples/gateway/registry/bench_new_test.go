package registry_test

import "github.com/gnssgate/gnssgate/examples/gateway/registry"

func messageLookups(r *registry.Registry, ident func(int) string) {
	r.DeviceRetention(ident(1))
	r.DeviceRetention(ident(2))
	r.DeviceAccountByIdent(ident(3))
}
