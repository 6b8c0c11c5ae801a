// Package cheques serves cheques.fetch against iKassa SmartX cash registers.
// It holds handlers only; consuming, validation, idempotency, retries and
// publishing are the runtime's (pkg/bus).
//
// # Announcing each content once
//
// A fetch reads the parked cheques of one register (GET_CHEQUES) and
// compares each with what the service remembers under
// "cheque/<register>/<uuid>" in its memo: the SHA-256 of the cheque's
// canonical JSON and a revision counter.
//
//   - nothing remembered: cheque.recorded, revision 1, event id from
//     register/uuid;
//   - a different hash: cheque.updated, the next revision, event id from
//     register/uuid/revision/hash (so a cheque that changes back to an
//     earlier content is a new update, not a duplicate of the old one);
//   - the same hash: nothing.
//
// Changes are published with Command.Emit in batches, each followed by the
// memo of what it announced, so a fetch that is killed and redelivered
// announces only what it had not, and what it announces twice carries the
// same ids, which the events stream drops. Cheques that disappear from the
// register (settled or deleted) announce nothing: the contract has no event
// for them.
//
// The output counts what this attempt found: after a redelivery, cheques
// announced by the interrupted attempt count as unchanged.
package cheques

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/internal/routing"
)

// Name is the service name: its durable consumer and output source.
const Name = "cheques"

// batch bounds the changes published by one Emit.
const batch = 100

// Register is what the service needs from one cash register.
type Register interface {
	GetCheques(ctx context.Context, uuids []string) ([]smartx.Cheque, error)
}

var _ Register = (*smartx.Client)(nil)

// Service holds the cheques handlers.
type Service struct {
	registers map[string]Register
	names     []string // sorted
}

// New returns the service reading the named registers. At least one is
// required; names are what commands put in register.
func New(registers map[string]Register) (*Service, error) {
	if len(registers) == 0 {
		return nil, errors.New("cheques: no register configured")
	}
	s := &Service{registers: map[string]Register{}}
	for name, r := range registers {
		if name == "" || r == nil {
			return nil, fmt.Errorf("cheques: register %q: need a name and a client", name)
		}
		s.registers[name] = r
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	return s, nil
}

// Routes lists the commands the service handles.
func (s *Service) Routes() []bus.Route {
	return []bus.Route{routing.Route(cheques.FetchCommand, s.fetch)}
}

// remembered is the memo of one cheque.
type remembered struct {
	Hash     string `json:"hash"`
	Revision int    `json:"revision"`
}

func memoKey(register, uuid string) string { return "cheque/" + register + "/" + uuid }

func (s *Service) fetch(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d cheques.Fetch
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	name := d.Register
	if name == "" {
		if len(s.names) != 1 {
			return nil, bus.Reject("data.register", "is required when several registers are configured (%s)", strings.Join(s.names, ", "))
		}
		name = s.names[0]
	}
	reg, ok := s.registers[name]
	if !ok {
		return nil, bus.Reject("data.register", "unknown register %q (configured: %s)", name, strings.Join(s.names, ", "))
	}
	list, err := reg.GetCheques(ctx, d.UUIDs)
	if err != nil {
		return nil, fmt.Errorf("get cheques of register %s: %w", name, err)
	}

	out := cheques.FetchOutput{Register: name, Cheques: len(list)}
	var changes []bus.Change
	var memo []bus.MemoWrite
	flush := func() error {
		if len(changes) == 0 {
			return nil
		}
		if err := cmd.Emit(ctx, changes, memo); err != nil {
			return fmt.Errorf("announce cheques of register %s: %w", name, err)
		}
		changes, memo = changes[:0], memo[:0]
		return nil
	}
	seen := map[string]bool{}
	for _, ch := range list {
		uuid := ch.Info.UUID
		if seen[uuid] {
			continue // listed twice in one answer: announce once
		}
		seen[uuid] = true
		hash, err := contentHash(ch.Raw)
		if err != nil {
			return nil, bus.Permanent(fmt.Errorf("hash cheque %s of register %s: %w", uuid, name, err))
		}
		key := memoKey(name, uuid)
		raw, known, err := cmd.Memo(ctx, key)
		if err != nil {
			return nil, err
		}
		var prev remembered
		if known {
			if err := json.Unmarshal(raw, &prev); err != nil {
				known = false // unreadable memo: announce afresh rather than never
			}
		}
		next := remembered{Hash: hash, Revision: 1}
		switch {
		case !known:
			out.Recorded++
			changes = append(changes, bus.Change{
				Type: cheques.TypeRecorded, Subject: cheques.SubjectRecorded,
				FactKey: name + "/" + uuid,
				Data:    cheques.Recorded{Register: name, UUID: uuid, Revision: 1, ContentHash: hash, Cheque: chequeOf(ch)},
			})
		case prev.Hash == hash:
			out.Unchanged++
			continue
		default:
			out.Updated++
			next.Revision = prev.Revision + 1
			changes = append(changes, bus.Change{
				Type: cheques.TypeUpdated, Subject: cheques.SubjectUpdated,
				FactKey: fmt.Sprintf("%s/%s/%d/%s", name, uuid, next.Revision, hash),
				Data: cheques.Updated{Register: name, UUID: uuid, Revision: next.Revision, ContentHash: hash,
					PreviousHash: prev.Hash, Cheque: chequeOf(ch)},
			})
		}
		b, err := json.Marshal(next)
		if err != nil {
			return nil, bus.Permanent(fmt.Errorf("encode memo of cheque %s: %w", uuid, err))
		}
		memo = append(memo, bus.MemoWrite{Key: key, Value: b})
		if len(changes) >= batch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return &bus.Outcome{Output: out}, nil
}

// contentHash is the hex SHA-256 of the cheque's canonical JSON: object keys
// sorted, numbers and strings verbatim, no insignificant white space. A
// register that reorders keys does not make a cheque look changed.
func contentHash(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	canon, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// chequeOf maps the register's cheque to the contract's.
func chequeOf(c smartx.Cheque) cheques.Cheque {
	out := cheques.Cheque{
		Info: cheques.ChequeInfo{
			UUID: c.Info.UUID, Name: c.Info.Name, ChequeType: string(c.Info.ChequeType),
			Table: c.Info.Table, Place: c.Info.Place,
		},
		Currency:       c.Currency,
		ChequeDiscount: discountOf(c.ChequeDiscount),
		SubTotal:       string(c.SubTotal),
		Total:          string(c.Total),
		Items:          make([]cheques.Item, 0, len(c.Items)),
		Payments:       make([]cheques.Payment, 0, len(c.Payments)),
	}
	for _, it := range c.Items {
		item := cheques.Item{
			Name: it.Name, Price: string(it.Price), Quantity: string(it.Quantity),
			Discount: discountOf(it.Discount), Sum: string(it.Sum), Total: string(it.Total),
		}
		if it.Code != nil {
			item.Code = &cheques.ItemCode{Type: it.Code.Type, Value: it.Code.Value}
		}
		if it.Tax != nil {
			item.Tax = &cheques.Tax{Rate: string(it.Tax.Rate), Value: string(it.Tax.Value)}
		}
		out.Items = append(out.Items, item)
	}
	for _, p := range c.Payments {
		out.Payments = append(out.Payments, cheques.Payment{Type: p.Type, Sum: string(p.Sum)})
	}
	return out
}

func discountOf(d *smartx.Discount) *cheques.Discount {
	if d == nil {
		return nil
	}
	return &cheques.Discount{IsPercent: d.IsPercent, Value: string(d.Value), Sum: string(d.Sum)}
}
