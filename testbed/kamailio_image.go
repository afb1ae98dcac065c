package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// kamailioImage, from KAMREG_TEST_KAMAILIO_IMAGE, is a local Docker image
// whose kamailio the testbed runs instead of the host's: the image
// kamailio/Dockerfile builds, for a Kamailio version the host's Debian does
// not ship (6.0 from Debian 13 on a Debian 12 host). The container runs on
// the host's network with the temporary directory shared, so it listens on
// 127.0.0.1 and tests reach it, its files and its sockets exactly as they
// reach a Kamailio of the host. Empty means the host's kamailio.
var kamailioImage = os.Getenv("KAMREG_TEST_KAMAILIO_IMAGE")

// containerLabel marks the testbed's containers, so that a run that died
// can be cleaned up: docker rm -f $(docker ps -aq --filter label=kamreg-testbed).
const containerLabel = "kamreg-testbed"

var containerSeq atomic.Int64

// kamailioCommand returns the command that runs kamailio with args and the
// extra environment env: the host's binary, or a container of
// kamailioImage. name is the container's name (empty for the host).
func kamailioCommand(args, env []string) (cmd *exec.Cmd, name string) {
	if kamailioImage == "" {
		cmd = exec.Command("kamailio", args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd, ""
	}
	name = fmt.Sprintf("kamreg-testbed-kamailio-%d-%d", os.Getpid(), containerSeq.Add(1))
	tmp := os.TempDir()
	run := []string{"run", "--rm", "--init", "--network", "host", "--name", name, "--label", containerLabel,
		"--user", "0:0", "--entrypoint", "kamailio", "-v", tmp + ":" + tmp}
	for _, e := range env {
		run = append(run, "-e", e)
	}
	run = append(run, kamailioImage)
	return exec.Command("docker", append(run, args...)...), name
}

// stopContainer stops the container name (SIGTERM, then SIGKILL after
// grace) or, with grace 0, kills it at once.
func stopContainer(name string, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace+20*time.Second)
	defer cancel()
	args := []string{"kill", name}
	if grace > 0 {
		args = []string{"stop", "-t", fmt.Sprint(int(grace / time.Second)), name}
	}
	_ = exec.CommandContext(ctx, "docker", args...).Run()
}

var schemaOnce struct {
	sync.Once
	dir string
	err error
}

// imageSchemaDir copies Kamailio's PostgreSQL schema out of kamailioImage
// (once per process) and returns the directory that holds it, so that the
// tables are the ones that Kamailio version creates.
func imageSchemaDir() (string, error) {
	schemaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kamreg-kamailio-schema-")
		if err != nil {
			schemaOnce.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--label", containerLabel, "--user", "0:0",
			"--entrypoint", "tar", kamailioImage, "-C", defaultSchemaDir, "-c", ".").Output()
		if err == nil {
			untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
			untar.Stdin = strings.NewReader(string(out))
			err = untar.Run()
		}
		if err != nil {
			os.RemoveAll(dir)
			schemaOnce.err = fmt.Errorf("Kamailio's schema from image %s: %w", kamailioImage, err)
			return
		}
		schemaOnce.dir = dir
	})
	return schemaOnce.dir, schemaOnce.err
}

// checkImage returns what is missing to run Kamailio from kamailioImage.
func checkImage() []string {
	if _, err := exec.LookPath("docker"); err != nil {
		return []string{"docker (Debian package docker.io), for KAMREG_TEST_KAMAILIO_IMAGE"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "-f", "{{.Id}}", kamailioImage).CombinedOutput(); err != nil {
		return []string{fmt.Sprintf("the Docker image %s (KAMREG_TEST_KAMAILIO_IMAGE; `make kamailio-image` builds it): %s",
			kamailioImage, strings.TrimSpace(string(out)))}
	}
	dir, err := imageSchemaDir()
	if err != nil {
		return []string{err.Error()}
	}
	schemaDir = dir
	if _, err := os.Stat(filepath.Join(dir, "usrloc-create.sql")); err != nil {
		return []string{"Kamailio's PostgreSQL schema in image " + kamailioImage + " (Debian package kamailio)"}
	}
	return nil
}
