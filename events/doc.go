// Package events is the public contract of loyaltybus as Go code: the envelope
// rules every command and output follows, the result payload, and the catalogue
// of commands. One package per domain (points, coupon, order, …) declares that
// domain's command and change-event types, subjects, data structs and embedded
// JSON Schemas.
//
// The module uses the standard library only, so systems that import it pull in
// nothing else. Anything here is a public interface: add, never rename.
package events
