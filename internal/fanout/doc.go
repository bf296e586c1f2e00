// Package fanout hands the blocks of one stream to several consumers (a
// file writer and one goroutine per hash, say), each on its own goroutine,
// so that they run on different cores while each sees the blocks in order.
// Consumers run independently: a slow block in one does not hold the
// others back, and the reader only waits when every buffer is in flight.
// Memory is bounded by the number of buffers, whatever the stream's size.
package fanout
