#!/usr/bin/env bash
# Installs the Debian packages kamreg's tests and demo need, when missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

# docker.io, docker-compose and debootstrap: the compose smoke test and
# scripts/images.sh; wrk: the benchmarks; chromium: the browser tests.
packages=(postgresql kamailio kamailio-postgres-modules sip-tester ca-certificates
	docker.io docker-compose debootstrap wrk chromium)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing Debian packages: ${missing[*]}" >&2
	sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || { echo "deps: need root to install ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "deps: Go is not on PATH (see README: Go 1.26 or newer)" >&2; exit 1; }
