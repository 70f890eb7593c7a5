// Package config is the gateway binary's configuration: command-line flags
// and a YAML file with the same keys (flags win), from one list of options
// that also makes -h and the README's table, plus the objects a deployment
// declares in the file (channels, devices, streams, tokens).
//
//	data: /var/lib/gnssgate
//	http: ":8080"
//	channel: ["teltonika=:5027", "teltonika=udp://:5027"]
//	devices:
//	  - name: truck 1
//	    configuration: {ident: "356307042441013"}
//	streams:
//	  - name: crm
//	    protocol_name: http
//	    configuration: {uri: "https://crm.example.com/in"}
//	    channels: [1]
package config
