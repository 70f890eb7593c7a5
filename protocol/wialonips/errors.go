package wialonips

import "errors"

// Errors of [Session.EncodeCommand].
var (
	// ErrCommandText: the command's text holds CR or LF, which would end
	// the packet early on the wire.
	ErrCommandText = errors.New("wialonips: command text contains CR or LF")
	// ErrUnknownCommand: Command.Name is none of the kinds the session
	// encodes.
	ErrUnknownCommand = errors.New("wialonips: unknown command name")
)
