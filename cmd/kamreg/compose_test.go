package main

import (
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kamreg/kamreg/app"
	"gopkg.in/yaml.v3"
)

// compose is the part of docker-compose.yml this test reads.
type compose struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build any    `yaml:"build"`
		// Environment is a map in this file.
		Environment map[string]string                     `yaml:"environment"`
		Ports       []string                              `yaml:"ports"`
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestComposeFile checks docker-compose.yml and the Dockerfiles without a
// Docker engine: services, builds, KAMREG_* names against the
// configuration, health checks, ports and the shared Kamailio config.
func TestComposeFile(t *testing.T) {
	var c compose
	if err := yaml.Unmarshal([]byte(readFile(t, "../../docker-compose.yml")), &c); err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, s := range c.Services {
		names = append(names, name)
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"kamailio", "kamreg", "postgres"}, names); diff != "" {
		t.Fatalf("services (-want +got):\n%s", diff)
	}
	if img := c.Services["postgres"].Image; img != "postgres:${KAMREG_POSTGRES_VERSION:-17}" {
		t.Errorf("postgres image %q, want postgres:17 unless KAMREG_POSTGRES_VERSION says otherwise", img)
	}

	// kamreg: configured only through KAMREG_* variables kamreg knows.
	known := map[string]bool{}
	var cfg app.Config
	cfg.Flags("serve", true).VisitAll(func(f *flag.Flag) {
		known["KAMREG_"+strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))] = true
	})
	kr := c.Services["kamreg"]
	for k := range kr.Environment {
		if !known[k] {
			t.Errorf("kamreg's environment sets %s, which kamreg does not read", k)
		}
	}
	for _, need := range []string{"KAMREG_DATABASE_URL", "KAMREG_KAMAILIO_RPC", "KAMREG_LISTEN"} {
		if kr.Environment[need] == "" {
			t.Errorf("kamreg's environment lacks %s", need)
		}
	}
	if b, _ := kr.Build.(map[string]any); b["context"] != "." || b["args"] == nil {
		t.Errorf("kamreg build %v, want context . with the VERSION argument", kr.Build)
	}
	// Published on the address and port the operator chooses (.env).
	if diff := cmp.Diff([]string{"${KAMREG_BIND:-0.0.0.0}:${KAMREG_HTTP_PORT:-8000}:8000"}, kr.Ports); diff != "" ||
		!strings.HasSuffix(kr.Environment["KAMREG_LISTEN"], ":8000") {
		t.Errorf("kamreg ports %v, listen %q", kr.Ports, kr.Environment["KAMREG_LISTEN"])
	}
	for _, p := range kr.Ports {
		if strings.Contains(p, "9108") {
			t.Errorf("the metrics port is published: %s", p)
		}
	}
	for _, dep := range []string{"postgres", "kamailio"} {
		if kr.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("kamreg does not wait for %s to be healthy", dep)
		}
	}
	if !strings.Contains(kr.Environment["KAMREG_KAMAILIO_RPC"], "http://kamailio:5071/RPC") {
		t.Errorf("KAMREG_KAMAILIO_RPC %q does not reach the kamailio service", kr.Environment["KAMREG_KAMAILIO_RPC"])
	}

	// Kamailio: SIP published, JSON-RPC kept on the compose network.
	k := c.Services["kamailio"]
	sip := "${KAMREG_BIND:-0.0.0.0}:${KAMREG_SIP_PORT:-5060}:5060"
	if diff := cmp.Diff([]string{sip + "/udp", sip + "/tcp"}, k.Ports); diff != "" {
		t.Errorf("kamailio ports (-want +got):\n%s", diff)
	}
	for _, p := range append(k.Ports, kr.Ports...) {
		if strings.Contains(p, "5071") {
			t.Errorf("JSON-RPC port published: %s", p)
		}
	}
	build, _ := k.Build.(map[string]any)
	if build["dockerfile"] != "kamailio/Dockerfile" || build["context"] != "." {
		t.Errorf("kamailio build %v", k.Build)
	}
}

func TestDockerfiles(t *testing.T) {
	kam := readFile(t, "../../kamailio/Dockerfile")
	for _, want := range []string{"ARG DEBIAN=13\nFROM debian:${DEBIAN}-slim", "kamailio kamailio-postgres-modules", "COPY kamailio/kamailio.cfg /etc/kamailio/kamailio.cfg"} {
		if !strings.Contains(kam, want) {
			t.Errorf("kamailio/Dockerfile lacks %q", want)
		}
	}
	entry := readFile(t, "../../kamailio/docker-entrypoint.sh")
	for _, want := range []string{"-f /etc/kamailio/kamailio.cfg", "usrloc-create.sql", "RPC_LISTEN=tcp:0.0.0.0:5071"} {
		if !strings.Contains(entry, want) {
			t.Errorf("kamailio/docker-entrypoint.sh lacks %q", want)
		}
	}
	// The defines the entrypoint passes are ones kamailio.cfg reads.
	cfg := readFile(t, "../../kamailio/kamailio.cfg")
	for _, m := range regexp.MustCompile(`-A "([A-Z_]+)=`).FindAllStringSubmatch(entry, -1) {
		if !strings.Contains(cfg, "#!ifndef "+m[1]) && !strings.Contains(cfg, "#!ifdef "+m[1]) {
			t.Errorf("the entrypoint sets %s, which kamailio.cfg does not read", m[1])
		}
	}
	kr := readFile(t, "../../Dockerfile")
	if stages := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(kr, -1)); stages < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", stages)
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "./cmd/kamreg", "distroless/static"} {
		if !strings.Contains(kr, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
