package stream

// BatchIDsForTest returns AppendIDs of a batch of the given sequence
// numbers of log.
func BatchIDsForTest(b *Batch, log string, seqs []uint64) string {
	for _, q := range seqs {
		b.Messages = append(b.Messages, Message{Seq: q, log: log})
	}
	return string(b.AppendIDs(nil))
}
