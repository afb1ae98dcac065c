#!/usr/bin/env bash
# Runs a command with a Docker engine: Debian's dockerd is started when none
# answers, and stopped after the command only if it was started here.
#
#   scripts/with-dockerd.sh COMMAND [ARGS...]
#
# Needs root when no engine runs. The command's exit status is returned.
set -euo pipefail

log() { echo "with-dockerd: $*" >&2; }

if docker info >/dev/null 2>&1; then
	exec "$@"
fi
command -v dockerd >/dev/null || { log "no Docker engine answers and dockerd is missing (Debian package docker.io; run make deps as root)"; exit 1; }
((EUID == 0)) || { log "no Docker engine answers, and starting dockerd needs root"; exit 1; }
logf=$(mktemp /tmp/kamreg-dockerd.XXXXXX.log)
setsid dockerd >"$logf" 2>&1 &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
	kill -KILL -- "-$pid" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 60); do
	docker info >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; log "dockerd exited"; exit 1; }
	sleep 1
done
docker info >/dev/null 2>&1 || { tail -20 "$logf" >&2; log "dockerd did not answer within 60 s"; exit 1; }
log "started dockerd (pid $pid, log $logf)"
status=0
"$@" || status=$?
exit "$status"
