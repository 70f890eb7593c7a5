// Package binfield holds what the binary tracker protocols (EGTS, JT/T 808,
// Navtelecom, Arnavi, Teltonika, GT06) share for turning fields into
// message values.
package binfield
