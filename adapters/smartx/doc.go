// Package smartx is a client for the HTTP server of the iKassa SmartX
// software cash register (IMLab, Belarus).
//
// A register answers POST {BaseURL}/v1. The operation is chosen by the
// upper-case request header INTENT_OPERATION_TYPE and the caller is
// identified by an Auth-token obtained from the AUTH intent with the
// cashier's PIN. Every answer carries a resultCode in its JSON body; that
// code, not the HTTP status, decides the outcome. resultCode values look like
// HTTP statuses but mean other things (400 "shift must be opened", 404
// "negative total"), so they are never read with HTTP semantics.
//
// One [Client] talks to one register. Money and quantities are exact
// [Decimal] strings; nothing is converted to float64.
//
// Errors are [*APIError] (the register answered with a resultCode other than
// 200) or [*TransportError] (no usable answer). Both report Temporary,
// RetryAfter and VendorDetail so a caller can classify them without knowing
// these types, and both match sentinels such as [ErrChequesNotFound] with
// errors.Is. Cancellation of the caller's context stays visible through
// errors.Is(err, context.Canceled).
//
// The simulator in package smartxtest implements the same protocol for tests
// and for the all-in-one binary.
package smartx
