package protocol

import "errors"

// Settings is implemented by codecs whose devices keep named parameters
// that a server can read and write with commands, such as Teltonika's
// getparam and setparam over Codec 12. A server sends the [Command] through
// the device's session ([CommandEncoder]) and gives the device's answer
// ([CommandResponse]) back to SettingValue; keeping the values (a device
// shadow) is the caller's business.
//
// Protocols whose documents define commands only as free text with free
// answers (GT06's 0x80) or no way to read one parameter back (Wialon IPS,
// whose #UC# uploads a whole configuration file) do not implement it.
type Settings interface {
	// ReadSetting returns the command asking the device for setting name.
	// A name the protocol cannot address is an [ErrSettingName] error.
	ReadSetting(name string) (Command, error)
	// WriteSetting returns the command setting name to value. A value the
	// command cannot carry is an [ErrSettingValue] error.
	WriteSetting(name, value string) (Command, error)
	// SettingValue reads the device's answer to the read or write command
	// of name and returns the value the device reports it holds. A refusal
	// (an unknown parameter, a value out of range) is an error wrapping
	// [ErrSettingRefused] and quoting the device; an answer that is not
	// about name wraps [ErrSettingAnswer].
	SettingValue(name string, answer CommandResponse) (string, error)
}

// Errors of [Settings].
var (
	// ErrSettingName: the protocol has no setting of that name, or cannot
	// address it.
	ErrSettingName = errors.New("protocol: bad setting name")
	// ErrSettingValue: the value cannot be sent (a separator, a control
	// character, too long).
	ErrSettingValue = errors.New("protocol: bad setting value")
	// ErrSettingRefused: the device answered that it refused the read or
	// the write.
	ErrSettingRefused = errors.New("protocol: device refused the setting")
	// ErrSettingAnswer: the answer is not one to the setting's command.
	ErrSettingAnswer = errors.New("protocol: not an answer about the setting")
)
