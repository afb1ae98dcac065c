package kamailio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kamreg/kamreg"
)

// Remove calls ul.rm for aor ("user@domain") in the usrloc table. An AoR the
// node does not hold is not an error.
func (c *Client) Remove(ctx context.Context, table, aor string) error {
	err := c.call(ctx, "ul.rm", []any{table, aor}, nil)
	if errors.Is(err, kamreg.ErrNotFound) {
		return nil
	}
	return err
}

// Lookup calls ul.lookup for aor. An AoR the node does not hold gives no
// contacts and no error.
func (c *Client) Lookup(ctx context.Context, table, aor string) ([]Contact, error) {
	var rec struct {
		AoR      string `json:"AoR"`
		Contacts []struct {
			Contact Contact `json:"Contact"`
		} `json:"Contacts"`
	}
	err := c.call(ctx, "ul.lookup", []any{table, aor}, &rec)
	if errors.Is(err, kamreg.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Contact, 0, len(rec.Contacts))
	for _, w := range rec.Contacts {
		out = append(out, w.Contact)
	}
	return out, nil
}

// Record is one AoR and its contacts as ul.dump reports them.
type Record struct {
	AoR      string
	Contacts []Contact
}

// Dump calls ul.dump and returns every AoR the node holds in table, with
// its contacts. The reply is bounded in size and time like every call.
func (c *Client) Dump(ctx context.Context, table string) ([]Record, error) {
	var raw json.RawMessage
	if err := c.call(ctx, "ul.dump", nil, &raw); err != nil {
		return nil, err
	}
	recs, err := decodeDump(raw, table)
	if err != nil {
		return nil, c.noAnswer(fmt.Errorf("ul.dump: %w", err))
	}
	return recs, nil
}

// AoRs calls ul.dump brief and returns the AoRs the node holds in table,
// without their contacts. Like Dump, it ties up one of the node's workers
// while the node builds the answer: for small nodes and tests only.
func (c *Client) AoRs(ctx context.Context, table string) ([]string, error) {
	var dump struct {
		Domains []struct {
			Domain struct {
				Domain string `json:"Domain"`
				AoRs   []struct {
					AoR string `json:"AoR"`
				} `json:"AoRs"`
			} `json:"Domain"`
		} `json:"Domains"`
	}
	if err := c.call(ctx, "ul.dump", []any{"brief"}, &dump); err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dump.Domains {
		if d.Domain.Domain != table {
			continue
		}
		for _, a := range d.Domain.AoRs {
			out = append(out, a.AoR)
		}
	}
	return out, nil
}

// decodeDump reads the result of ul.dump: the AoRs of table with their
// contacts. It tolerates what it does not know and refuses what is not a
// dump.
func decodeDump(raw []byte, table string) ([]Record, error) {
	var dump struct {
		Domains []struct {
			Domain struct {
				Domain string `json:"Domain"`
				AoRs   []struct {
					Info struct {
						AoR      string `json:"AoR"`
						Contacts []struct {
							Contact Contact `json:"Contact"`
						} `json:"Contacts"`
					} `json:"Info"`
				} `json:"AoRs"`
			} `json:"Domain"`
		} `json:"Domains"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil {
		return nil, err
	}
	var out []Record
	for _, d := range dump.Domains {
		if d.Domain.Domain != table {
			continue
		}
		for _, a := range d.Domain.AoRs {
			rec := Record{AoR: a.Info.AoR}
			for _, w := range a.Info.Contacts {
				rec.Contacts = append(rec.Contacts, w.Contact)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}
