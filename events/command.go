package events

// Command describes one command of the contract: where it is published, its
// type, the JSON Schema of its data and the data field that orders it.
type Command struct {
	// Type is the CloudEvent type, e.g. loyalty.points.freeze.v1.
	Type string
	// Subject is the NATS subject, e.g. loyalty.cmd.points.freeze.
	Subject string
	// Schema is the JSON Schema (2020-12) of the command's data.
	Schema []byte
	// PartitionKey names the data field used as partition key when the event
	// carries no partitionkey attribute ("" when none applies).
	PartitionKey string
}

// ResultType is the type of this command's result events.
func (c Command) ResultType() string { return ResultType(c.Type) }

// ResultSubject is the subject of this command's result events.
func (c Command) ResultSubject() string { return ResultSubject(c.Subject) }

// Change describes one change event of the contract.
type Change struct {
	// Type is the CloudEvent type, e.g. loyalty.points.frozen.v1.
	Type string
	// Subject is the NATS subject, e.g. loyalty.event.points.frozen.
	Subject string
	// Schema is the JSON Schema (2020-12) of the event's data.
	Schema []byte
}

// CommandData is implemented by every command data struct, so a publisher can
// address a command from its data alone.
type CommandData interface {
	Command() Command
}
