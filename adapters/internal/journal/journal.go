// Package journal keeps the most recent entries of an in-memory log: the
// vendor simulators record the requests they serve, and a long-running
// simulator (the all-in-one's) must not keep them all.
package journal

// Append appends e to log and, when max > 0, drops the oldest entries beyond
// max. The slice grows to 2×max before the newest max entries are copied
// down, so an append costs O(1) amortised; Recent hides the older ones until
// then.
func Append[T any](log []T, e T, max int) []T {
	log = append(log, e)
	if max > 0 && len(log) >= 2*max {
		n := copy(log, log[len(log)-max:])
		clear(log[n:])
		log = log[:n]
	}
	return log
}

// Recent returns the most recent max entries of a log built by Append, or
// all of them when max ≤ 0.
func Recent[T any](log []T, max int) []T {
	if max > 0 && len(log) > max {
		return log[len(log)-max:]
	}
	return log
}
