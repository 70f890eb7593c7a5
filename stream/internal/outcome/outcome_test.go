package outcome

import (
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/stream"
)

func TestError(t *testing.T) {
	down := errors.New("down")
	refused := stream.Permanent(errors.New("refused"))
	if Error([]error{nil, nil}) != nil || Error(nil) != nil {
		t.Fatal("no failures must be nil")
	}
	if err := Error([]error{down, down}); err != down {
		t.Fatalf("all retriable = %v, want the error itself", err)
	}
	var be *stream.BatchError
	if err := Error([]error{nil, refused, down}); !errors.As(err, &be) || be.Len() != 2 || be.Err(0) != nil || be.Err(1) != refused {
		t.Fatalf("mixed = %v", err)
	}
	if err := Error([]error{refused}); !errors.As(err, &be) || be.Len() != 1 {
		t.Fatalf("one refused = %v, want a BatchError (the stream then rejects it without halving)", err)
	}
	errs := []error{nil, refused, nil, nil}
	FailFrom(errs, 1, down)
	if errs[0] != nil || errs[1] != refused || errs[2] != down || errs[3] != down {
		t.Fatalf("FailFrom: %v", errs)
	}
}
