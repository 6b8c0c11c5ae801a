package smartxtest

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
)

// PutCheque parks c on the register, or replaces the parked cheque with the
// same Info.UUID (keeping its position in the list). The UUID must not be
// empty; the type must be Postponed, or Order with Table and Place. UUID
// syntax is not checked. Nil Items or Payments are sent as empty lists.
func (s *Simulator) PutCheque(c smartx.Cheque) error {
	if c.Info.UUID == "" {
		return errors.New("smartxtest: cheque without uuid")
	}
	switch c.Info.ChequeType {
	case smartx.ChequePostponed:
		if c.Info.Table != nil || c.Info.Place != nil {
			return fmt.Errorf("smartxtest: Postponed cheque %s has a table or place", c.Info.UUID)
		}
	case smartx.ChequeOrder:
		if c.Info.Table == nil || c.Info.Place == nil {
			return fmt.Errorf("smartxtest: Order cheque %s needs a table and a place", c.Info.UUID)
		}
	default:
		return fmt.Errorf("smartxtest: cheque %s has type %q, want Postponed or Order", c.Info.UUID, c.Info.ChequeType)
	}
	if c.Items == nil {
		c.Items = []smartx.Item{}
	}
	if c.Payments == nil {
		c.Payments = []smartx.Payment{}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("smartxtest: encode cheque %s: %w", c.Info.UUID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cheques[c.Info.UUID]; !ok {
		s.chequeOrder = append(s.chequeOrder, c.Info.UUID)
	}
	s.cheques[c.Info.UUID] = raw
	return nil
}

// PutRawCheque parks a cheque given as the register's JSON, unchanged, under
// uuid. It lets tests serve shapes the smartx types do not produce.
func (s *Simulator) PutRawCheque(uuid string, raw json.RawMessage) error {
	if uuid == "" {
		return errors.New("smartxtest: cheque without uuid")
	}
	if !json.Valid(raw) {
		return fmt.Errorf("smartxtest: cheque %s is not valid JSON", uuid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cheques[uuid]; !ok {
		s.chequeOrder = append(s.chequeOrder, uuid)
	}
	s.cheques[uuid] = append(json.RawMessage(nil), raw...)
	return nil
}

// RemoveCheque takes the cheque uuid off the register, as when it is paid
// or deleted. It reports whether the cheque was there.
func (s *Simulator) RemoveCheque(uuid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cheques[uuid]; !ok {
		return false
	}
	delete(s.cheques, uuid)
	for i, id := range s.chequeOrder {
		if id == uuid {
			s.chequeOrder = append(s.chequeOrder[:i], s.chequeOrder[i+1:]...)
			break
		}
	}
	return true
}
