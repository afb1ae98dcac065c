package kamreg

import (
	"testing"
	"time"
)

func TestFlushRecordHides(t *testing.T) {
	began := time.Date(2026, 5, 1, 10, 0, 0, 500_000_000, time.UTC)
	row := Binding{Ruid: "r1", Username: "alice", Domain: "Example.COM", CallID: "c1", CSeq: 7,
		LastModified: began.Add(-time.Second)}
	later := row
	later.LastModified = began.Add(time.Second)
	sameInstant := row
	sameInstant.LastModified = began
	other := row
	other.Domain = "other.example.com"
	tests := []struct {
		name string
		rec  FlushRecord
		b    Binding
		want bool
	}{
		{"record of the same state", FlushRecord{Ruid: "r1", CallID: "c1", CSeq: 7, LastModified: row.LastModified}, row, true},
		{"registered again (CSeq)", FlushRecord{Ruid: "r1", CallID: "c1", CSeq: 6, LastModified: row.LastModified}, row, false},
		{"another ruid", FlushRecord{Ruid: "r2", CallID: "c1", CSeq: 7, LastModified: row.LastModified}, row, false},
		{"realm-wide, modified before the flush began", RealmFlush("example.com", began), row, true},
		{"realm-wide, modified as the flush began", RealmFlush("example.com", began), sameInstant, true},
		{"realm-wide, modified after the flush began", RealmFlush("example.com", began), later, false},
		{"realm-wide, another realm", RealmFlush("example.com", began), other, false},
		{"realm-wide with no realm hides nothing", FlushRecord{LastModified: began}, row, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Hides(tt.b); got != tt.want {
				t.Errorf("Hides = %v, want %v", got, tt.want)
			}
		})
	}
}
