// Package smartxtest is an in-memory iKassa SmartX register for tests and for
// the all-in-one binary: what httptest is to net/http, this package is to
// package smartx.
//
// A [Simulator] is an http.Handler answering POST /v1 like the register's
// HTTP server: AUTH with a PIN issues tokens, GET_CHEQUES lists the parked
// cheques put with [Simulator.PutCheque], and every answer is a BaseResponse
// with a resultCode. Faults are injected with ExpireToken, FailNext,
// ResultCodeNext, Delay and HangUp; [Server.DeviceOff] refuses connections
// outright. Every request is recorded (see [Simulator.Calls]; only the latest
// Options.MaxCalls when set).
//
// [NewServer] runs a Simulator on 127.0.0.1 with a random port for one test;
// [Start] does the same without a testing.TB. A Server captures the raw
// bytes of each request head, so the recorded header keys keep the case the
// client sent; a Simulator mounted in another server only sees Go's
// canonicalised keys (Intent_operation_type).
//
// Choices where the vendor is silent: a missing INTENT_OPERATION_TYPE is
// answered with 413 (bad request), an unknown one with 399 (general error,
// configurable); a wrong PIN with 401; a missing token with 401 and an
// unknown or expired token with 405; uuids are never syntax-checked (the
// vendor's own 488 example uses a malformed one).
package smartxtest
