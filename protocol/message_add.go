package protocol

// Add appends a parameter without looking for an existing one of the same
// name. It is the fast path for decoders that set each name once: [Set]
// searches the message first, a cost that grows with every parameter.
// Adding a name the message already has makes its JSON repeat a key; use
// Set unless the names are known to be distinct.
func (m *Message) Add(name string, v Value) {
	m.params = append(m.params, Param{Name: name, Value: v})
}
