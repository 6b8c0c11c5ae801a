package bus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Record states.
const (
	stateClaimed   = "claimed"
	stateSucceeded = "succeeded"
	stateFailed    = "failed"
	stateRejected  = "rejected"
)

// record is the idempotency record of one command id. It is written before
// the first vendor call (claim) and when the outcome is decided, before any
// output is published, so a crash at any point either repeats the vendor call
// with the same token or republishes the stored outputs.
type record struct {
	State string `json:"state"`
	// Hash identifies the command's type, subject and data; another payload
	// under the same id is a conflict.
	Hash string `json:"hash"`
	// Seq is the commands-stream sequence of the message that holds the claim.
	Seq uint64 `json:"seq"`
	// Lease is when a claim may be taken over by another message (Unix ms).
	Lease int64 `json:"lease,omitempty"`
	// Attempts counts handler invocations over the command's whole life;
	// GenAttempts those of the current generation (limited by MaxAttempts).
	Attempts    int `json:"attempts"`
	GenAttempts int `json:"genAttempts"`
	// Gen counts outcomes superseded by operator replays.
	Gen int `json:"gen"`
	// Outputs are the encoded messages of the decided outcome, republished
	// byte for byte when the command is seen again.
	Outputs []storedMsg `json:"outputs,omitempty"`
	// Memo holds the handler's memo writes, applied after the record is
	// stored and again when the outputs are republished.
	Memo []MemoWrite `json:"memo,omitempty"`
}

func (r *record) settled() bool { return r.State != stateClaimed }

// storedMsg is an output message as published.
type storedMsg struct {
	Subject string              `json:"subject"`
	Header  map[string][]string `json:"header"`
	Data    []byte              `json:"data"`
	// Result marks the result event (republished to duplicates on their own).
	Result bool `json:"result,omitempty"`
}

// idemStore wraps the KV bucket.
type idemStore struct {
	kv jetstream.KeyValue
}

// kvKey maps a command id to a KV key. Ids may contain ':', which KV keys do
// not allow; '=' is allowed in keys and never appears in an id.
func kvKey(id string) string { return strings.ReplaceAll(id, ":", "=3A") }

func (s *idemStore) get(ctx context.Context, id string) (*record, uint64, error) {
	e, err := s.kv.Get(ctx, kvKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read idempotency record %s: %w", id, err)
	}
	var r record
	if err := unmarshalRecord(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode idempotency record %s: %w", id, err)
	}
	return &r, e.Revision(), nil
}

// errLostRace means another writer changed the record first.
var errLostRace = errors.New("idempotency record changed concurrently")

// put creates the record (rev 0) or updates it at revision rev.
func (s *idemStore) put(ctx context.Context, id string, r *record, rev uint64) (uint64, error) {
	b, err := marshalRecord(r)
	if err != nil {
		return 0, fmt.Errorf("encode idempotency record %s: %w", id, err)
	}
	var n uint64
	if rev == 0 {
		n, err = s.kv.Create(ctx, kvKey(id), b)
	} else {
		n, err = s.kv.Update(ctx, kvKey(id), b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongLastSeq(err) {
		return 0, errLostRace
	}
	if err != nil {
		return 0, fmt.Errorf("write idempotency record %s: %w", id, err)
	}
	return n, nil
}

// msg is the record written at revision rev as a message to publish with
// other outputs: the KV subject with the expected last revision (0: create).
func (s *idemStore) msg(id string, r *record, rev uint64) (*nats.Msg, error) {
	b, err := marshalRecord(r)
	if err != nil {
		return nil, fmt.Errorf("encode idempotency record %s: %w", id, err)
	}
	m := nats.NewMsg("$KV." + IdempotencyBucket + "." + kvKey(id))
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	m.Data = b
	return m, nil
}

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// payloadHash identifies a command's content independent of content mode and
// JSON whitespace.
func payloadHash(typ, subject string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	h.Write([]byte{0})
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err == nil {
		h.Write(buf.Bytes())
	} else {
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func leaseUntil(now time.Time, d time.Duration) int64 { return now.Add(d).UnixMilli() }
