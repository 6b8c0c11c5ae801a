package bus

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// The idempotency record is written once or twice per command, so it has a
// compact binary form rather than JSON (whose reflection and base64 showed
// in profiles). Layout, all lengths as uvarints:
//
//	'L' 1                              magic and version
//	meta     (JSON of recordMeta)      the small fields, rarely decoded
//	outputs  count, then per output:
//	         flags (1 = result), subject, header count,
//	         per header: key, value count, values…, then data
//
// Strings and byte slices are a length followed by the bytes.
const recordMagic, recordVersion = 'L', 1

type recordMeta struct {
	State       string      `json:"s"`
	Hash        string      `json:"h"`
	Seq         uint64      `json:"q"`
	Lease       int64       `json:"l,omitempty"`
	Attempts    int         `json:"a"`
	GenAttempts int         `json:"ga"`
	Gen         int         `json:"g,omitempty"`
	Memo        []MemoWrite `json:"m,omitempty"`
}

func marshalRecord(r *record) ([]byte, error) {
	meta, err := json.Marshal(recordMeta{State: r.State, Hash: r.Hash, Seq: r.Seq, Lease: r.Lease, Attempts: r.Attempts,
		GenAttempts: r.GenAttempts, Gen: r.Gen, Memo: r.Memo})
	if err != nil {
		return nil, err
	}
	size := 2 + binary.MaxVarintLen64 + len(meta) + binary.MaxVarintLen64
	for _, o := range r.Outputs {
		size += 1 + 3*binary.MaxVarintLen64 + len(o.Subject) + len(o.Data)
		for k, vs := range o.Header {
			size += 2*binary.MaxVarintLen64 + len(k)
			for _, v := range vs {
				size += binary.MaxVarintLen64 + len(v)
			}
		}
	}
	b := make([]byte, 0, size)
	b = append(b, recordMagic, recordVersion)
	b = appendBytes(b, meta)
	b = binary.AppendUvarint(b, uint64(len(r.Outputs)))
	for _, o := range r.Outputs {
		var flags byte
		if o.Result {
			flags = 1
		}
		b = append(b, flags)
		b = appendBytes(b, []byte(o.Subject))
		b = binary.AppendUvarint(b, uint64(len(o.Header)))
		keys := make([]string, 0, len(o.Header))
		for k := range o.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic bytes for the same record
		for _, k := range keys {
			b = appendBytes(b, []byte(k))
			b = binary.AppendUvarint(b, uint64(len(o.Header[k])))
			for _, v := range o.Header[k] {
				b = appendBytes(b, []byte(v))
			}
		}
		b = appendBytes(b, o.Data)
	}
	return b, nil
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadRecord = errors.New("malformed idempotency record")

func unmarshalRecord(b []byte, r *record) error {
	if len(b) < 2 || b[0] != recordMagic {
		return errBadRecord
	}
	if b[1] != recordVersion {
		return fmt.Errorf("idempotency record version %d: %w", b[1], errBadRecord)
	}
	d := decoder{b: b[2:]}
	var meta recordMeta
	if err := json.Unmarshal(d.bytes(), &meta); err != nil || d.err != nil {
		return errBadRecord
	}
	*r = record{State: meta.State, Hash: meta.Hash, Seq: meta.Seq, Lease: meta.Lease, Attempts: meta.Attempts,
		GenAttempts: meta.GenAttempts, Gen: meta.Gen, Memo: meta.Memo}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errBadRecord
	}
	r.Outputs = make([]storedMsg, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var o storedMsg
		o.Result = d.byte() == 1
		o.Subject = string(d.bytes())
		hn := d.uvarint()
		if hn > uint64(len(d.b)) {
			return errBadRecord
		}
		o.Header = make(map[string][]string, hn)
		for h := uint64(0); h < hn && d.err == nil; h++ {
			k := string(d.bytes())
			vn := d.uvarint()
			if vn > uint64(len(d.b)) {
				return errBadRecord
			}
			vs := make([]string, 0, vn)
			for v := uint64(0); v < vn && d.err == nil; v++ {
				vs = append(vs, string(d.bytes()))
			}
			o.Header[k] = vs
		}
		o.Data = append([]byte(nil), d.bytes()...)
		r.Outputs = append(r.Outputs, o)
	}
	if d.err != nil || len(d.b) != 0 {
		return errBadRecord
	}
	return nil
}

// decoder reads the record layout, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errBadRecord
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadRecord
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}
