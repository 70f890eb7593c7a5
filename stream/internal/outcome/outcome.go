// Package outcome turns a sink's per-message results into the error its
// Write returns, for the sinks that learn each message's fate (MQTT,
// AMQP).
package outcome

import "github.com/gnssgate/gnssgate/stream"

// Error returns nil when no message failed, the first retriable error
// when every message failed with a retriable one (the whole batch is
// retried), and otherwise a [*stream.BatchError] naming each failure.
func Error(errs []error) error {
	failed, retriable := 0, 0
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		failed++
		if !stream.IsPermanent(err) {
			retriable++
			if first == nil {
				first = err
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case retriable == len(errs):
		return first
	}
	be := stream.NewBatchError()
	for i, err := range errs {
		if err != nil {
			be.Failed(i, err)
		}
	}
	return be
}

// FailFrom sets err for every message from i on that has no outcome yet.
func FailFrom(errs []error, i int, err error) {
	for ; i < len(errs); i++ {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}
