package events

import "time"

// Stream names and the subjects they hold (CONTRACT §2).
const (
	StreamCommands = "LOYALTY_COMMANDS"
	StreamResults  = "LOYALTY_RESULTS"
	StreamEvents   = "LOYALTY_EVENTS"
	StreamDLQ      = "LOYALTY_DLQ"

	SubjectCommands = "loyalty.cmd.>"
	SubjectResults  = "loyalty.result.>"
	SubjectEvents   = "loyalty.event.>"
	SubjectDLQ      = "loyalty.dlq.>"

	// SubjectDLQInvalid receives messages without a usable command id.
	SubjectDLQInvalid = "loyalty.dlq.invalid"
)

// Default retention of each stream.
const (
	MaxAgeCommands = 7 * 24 * time.Hour
	MaxAgeResults  = 7 * 24 * time.Hour
	MaxAgeEvents   = 365 * 24 * time.Hour
	MaxAgeDLQ      = 30 * 24 * time.Hour
)

// Headers with a meaning on the bus besides the CloudEvents binding.
const (
	// HeaderReplay marks an operator replay or redrive: stored failed or
	// rejected outcomes are re-attempted.
	HeaderReplay = "Loyalty-Replay"

	HeaderDLQReason   = "Loyalty-Dlq-Reason"
	HeaderDLQAttempts = "Loyalty-Dlq-Attempts"
	HeaderDLQStream   = "Loyalty-Dlq-Stream"
	HeaderDLQSequence = "Loyalty-Dlq-Sequence"
)

// CloudEvents extension attributes used on the bus.
const (
	AttrCausationID   = "causationid"
	AttrCorrelationID = "correlationid"
	AttrPartitionKey  = "partitionkey"
	AttrTraceparent   = "traceparent"
)
