// Package teltonika implements the Teltonika AVL protocol for gnssgate
// channels: the TCP IMEI handshake, Codec 8, 8 Extended and 16 records over
// TCP and UDP with their acknowledgements, and the Codec 12/13/14/15 GPRS
// messages that carry commands to the device and its answers.
package teltonika
