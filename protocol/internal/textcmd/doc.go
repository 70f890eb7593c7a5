// Package textcmd builds the server commands of text protocols whose every
// command is the device's id and a body (Coban GPS103, TK103): the checks
// they all make, in the same order, and the table from a command's name to
// its body. Each protocol keeps its own names, errors and wire framing.
package textcmd
