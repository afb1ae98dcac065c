package rest

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/kamreg/kamreg/adapter"
)

// schemaKey is one property of the Registration schema as openapi.yaml
// lists it.
type schemaKey struct {
	Name, Type string
	Required   bool
}

// registrationSchema reads the Registration schema's properties in the
// order openapi.yaml lists them.
func registrationSchema(t *testing.T) []schemaKey {
	t.Helper()
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Registration struct {
					Required   []string  `yaml:"required"`
					Properties yaml.Node `yaml:"properties"`
				} `yaml:"Registration"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	reg := doc.Components.Schemas.Registration
	required := map[string]bool{}
	for _, k := range reg.Required {
		required[k] = true
	}
	var out []schemaKey
	props := reg.Properties.Content
	for i := 0; i+1 < len(props); i += 2 {
		var p struct {
			Type string `yaml:"type"`
		}
		if err := props[i+1].Decode(&p); err != nil {
			t.Fatalf("%s: %v", props[i].Value, err)
		}
		out = append(out, schemaKey{props[i].Value, p.Type, required[props[i].Value]})
	}
	return out
}

// TestOpenAPIKeysAreTheTable keeps openapi.yaml's Registration schema
// equal to the table of registration keys: the same keys in the same
// order, each with its JSON type, the 24 required.
func TestOpenAPIKeysAreTheTable(t *testing.T) {
	types := map[adapter.Kind]string{adapter.Text: "string", adapter.Integer: "integer", adapter.Boolean: "boolean"}
	var want []schemaKey
	for _, f := range adapter.Fields {
		want = append(want, schemaKey{f.Name, types[f.Kind], !f.Optional})
	}
	if diff := cmp.Diff(want, registrationSchema(t)); diff != "" {
		t.Errorf("openapi.yaml's Registration (-table +openapi.yaml):\n%s", diff)
	}
}
