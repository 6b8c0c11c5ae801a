package bus

import (
	"strconv"

	"github.com/google/uuid"
)

// namespace roots every deterministic output id of loyaltybus.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://loyaltybus.dev/outputs"))

// resultID is the id of a command's result. Generation 0 is the first
// outcome; operator replays of failed commands count up.
func resultID(commandID string, gen int) string {
	name := commandID + "/result"
	if gen > 0 {
		name += "/" + strconv.Itoa(gen)
	}
	return uuid.NewSHA1(namespace, []byte(name)).String()
}

// changeID is the id of a change event: from the command id, the event type and
// the change's key within the command; or, when the change is a fact read from
// a vendor that several commands may observe, from its fact key alone.
func changeID(commandID, eventType, key, factKey string) string {
	if factKey != "" {
		return uuid.NewSHA1(namespace, []byte("fact/"+eventType+"/"+factKey)).String()
	}
	return uuid.NewSHA1(namespace, []byte(commandID+"/event/"+eventType+"/"+key)).String()
}

// dlqID is the id of a dead-letter copy.
func dlqID(commandID string, gen int, reason string) string {
	return uuid.NewSHA1(namespace, []byte(commandID+"/dlq/"+strconv.Itoa(gen)+"/"+reason)).String()
}
