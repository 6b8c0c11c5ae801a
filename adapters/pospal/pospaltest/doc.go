// Package pospaltest is a faithful in-memory simulator of the Pospal open API
// V1, to the pospal client what net/http/httptest is to net/http.
//
// [Simulator] is an http.Handler with vendor state (coupon rules, coupon codes,
// members, tickets, a daily call counter per appId). [NewServer] runs it on
// 127.0.0.1 for a test; the all-in-one binary mounts the handler itself.
//
// It behaves as VENDOR-NOTES §1(h) describes: paths match without regard to
// case, every body's data-signature is recomputed over the raw bytes (1031
// missing, 1032 mismatch, 1034 unknown appId, all with HTTP 200), answers are
// signed and gzip-compressed when asked, ticket pages are keyset-paged with an
// opaque postBackParameter and uids above 2^53 as bare JSON numbers, the
// used-codes query lists the codes actually used, keyset-paged the same way
// and at most 5 days per query, and every call, failed ones included, is
// charged to the appId's daily quota.
//
// Inspection ([Simulator.Calls], [Simulator.CouponCode],
// [Simulator.CodesUsed], [Simulator.Used]) and fault injection
// ([Simulator.FailNext], [Simulator.Delay], [Simulator.CommitThenDrop], …)
// make the unhappy paths testable. All methods are safe for concurrent use.
package pospaltest
