// Package quickack turns off delayed acknowledgements on a TCP connection.
// A peer that writes twice in a row with Nagle's algorithm on holds its
// second write until the first is acknowledged; the receiver's delayed ACK
// (up to 40 ms on Linux) then adds that much to every such exchange. The
// flag does not stick: callers set it before every read.
package quickack
