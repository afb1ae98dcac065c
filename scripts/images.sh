#!/usr/bin/env bash
# Makes the base images kamreg's Dockerfiles and docker-compose.yml name
# available on a machine that cannot reach an image registry:
#
#   debian:12-slim                           debootstrap --variant=minbase bookworm + docker import
#   debian:13-slim                           debootstrap --variant=minbase trixie + docker import
#   golang:1.26-bookworm                     debian:12-slim + this machine's Go toolchain and CA bundle
#   postgres:17                              debian:13-slim + Debian's postgresql-17, with an entrypoint
#                                            honouring POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB
#                                            (postgres:15 from debian:12-slim too, with KAMREG_POSTGRES_VERSION=15)
#   gcr.io/distroless/static-debian12:nonroot  passwd/group (nonroot = 65532), CA certificates, tzdata, /tmp
#
# An image whose tag already exists locally is left alone, so a second run
# costs nothing. With KAMREG_IMAGES_PULL=1 each missing image is first
# pulled from its registry, and built only when that fails.
#
# Debian packages come from this machine's own mirror (the first URIs of
# /etc/apt/sources.list.d/*.sources or deb line of /etc/apt/sources.list,
# or KAMREG_DEBIAN_MIRROR). Go comes from GOROOT (`go env GOROOT`, or
# KAMREG_GOROOT); it must be Go 1.26 or newer. The golang stand-in trusts
# the CA bundle of this machine (/etc/ssl/certs/ca-certificates.crt), so
# `go mod download` inside a build works where the machine itself reaches
# the module proxy through a TLS-inspecting gateway.
#
# Needs root (debootstrap) and a running Docker engine.
set -euo pipefail

log() { echo "images: $*" >&2; }
die() { log "$*"; exit 1; }

have() { docker image inspect "$1" >/dev/null 2>&1; }

# try_pull TAG: pulls only when KAMREG_IMAGES_PULL=1.
try_pull() {
	[[ "${KAMREG_IMAGES_PULL:-0}" == 1 ]] || return 1
	log "pulling $1"
	timeout 300 docker pull -q "$1" >/dev/null 2>&1
}

mirror() {
	if [[ -n "${KAMREG_DEBIAN_MIRROR:-}" ]]; then
		echo "$KAMREG_DEBIAN_MIRROR"
		return
	fi
	local m=""
	shopt -s nullglob
	for f in /etc/apt/sources.list.d/*.sources; do
		m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
		[[ -n "$m" ]] && break
	done
	if [[ -z "$m" && -r /etc/apt/sources.list ]]; then
		m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\// && $i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list)
	fi
	shopt -u nullglob
	echo "${m:-http://deb.debian.org/debian}"
}

work=$(mktemp -d /tmp/kamreg-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# build TAG: docker build of the Dockerfile and files in $work/ctx.
build() {
	log "building $1"
	docker build -t "$1" "$work/ctx" >"$work/build.log" 2>&1 \
		|| { tail -30 "$work/build.log" >&2; die "docker build of $1 failed"; }
	rm -rf "$work/ctx"
}

# image_debian VERSION SUITE: debian:VERSION-slim from debootstrap of SUITE.
image_debian() {
	local tag=debian:$1-slim suite=$2
	have "$tag" && { log "$tag: present"; return; }
	try_pull "$tag" && return
	command -v debootstrap >/dev/null || die "debootstrap is missing (Debian package debootstrap)"
	((EUID == 0)) || die "building $tag with debootstrap needs root"
	local m root="$work/rootfs"
	m=$(mirror)
	log "building $tag: debootstrap --variant=minbase $suite from $m"
	debootstrap --variant=minbase "$suite" "$root" "$m" >"$work/debootstrap.log" 2>&1 \
		|| { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
	# The sources an official image carries, on this machine's mirror.
	local sec="${m%/debian}/debian-security"
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: $m
		Suites: $suite $suite-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: $sec
		Suites: $suite-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# Slim, as the official image: no apt lists, caches, docs or man pages.
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/* \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
	printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
		>"$root/etc/dpkg/dpkg.cfg.d/docker"
	printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
	: >"$root/etc/hostname"
	: >"$root/etc/resolv.conf"
	tar --numeric-owner -C "$root" -c . | docker import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
	rm -rf "$root"
}

image_golang() {
	local tag=golang:1.26-bookworm
	have "$tag" && { log "$tag: present"; return; }
	try_pull "$tag" && return
	local goroot="${KAMREG_GOROOT:-}"
	if [[ -z "$goroot" ]]; then
		command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
		command -v go >/dev/null || die "Go is not on PATH; set KAMREG_GOROOT"
		goroot=$(go env GOROOT)
	fi
	local v
	v=$("$goroot/bin/go" env GOVERSION)
	[[ "$v" =~ ^go1\.(2[6-9]|[3-9][0-9]) ]] || die "$goroot holds $v; golang:1.26 needs Go 1.26 or newer"
	mkdir -p "$work/ctx"
	log "copying $v from $goroot"
	cp -a "$goroot" "$work/ctx/go"
	rm -rf "$work/ctx/go/pkg/obj" "$work/ctx/go/.git"
	cp /etc/ssl/certs/ca-certificates.crt "$work/ctx/ca-certificates.crt"
	cat >"$work/ctx/Dockerfile" <<-'EOF'
		FROM debian:12-slim
		RUN apt-get update \
		 && apt-get install -y --no-install-recommends ca-certificates git \
		 && rm -rf /var/lib/apt/lists/*
		# The CA bundle of the machine that built this image.
		COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
		COPY go /usr/local/go
		ENV GOLANG_VERSION=local GOTOOLCHAIN=local GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
		WORKDIR /go
	EOF
	build "$tag"
}

# image_postgres MAJOR DEBIAN: postgres:MAJOR from debian:DEBIAN-slim's
# postgresql-MAJOR.
image_postgres() {
	local tag=postgres:$1 major=$1 debian=$2
	have "$tag" && { log "$tag: present"; return; }
	try_pull "$tag" && return
	mkdir -p "$work/ctx"
	cat >"$work/ctx/docker-entrypoint.sh" <<-'EOF'
		#!/bin/sh
		# Initialises $PGDATA on first start (POSTGRES_USER, POSTGRES_PASSWORD,
		# POSTGRES_DB), then runs PostgreSQL as the postgres user.
		set -eu
		if [ "${1:-}" != postgres ]; then exec "$@"; fi
		shift
		: "${PGDATA:=/var/lib/postgresql/data}"
		: "${POSTGRES_USER:=postgres}"
		: "${POSTGRES_DB:=$POSTGRES_USER}"
		[ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD must be set" >&2; exit 1; }
		as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
		if [ "$(id -u)" = 0 ]; then
			mkdir -p "$PGDATA" /var/run/postgresql
			chown postgres:postgres "$PGDATA" /var/run/postgresql
			chmod 700 "$PGDATA"
		else
			as_pg() { "$@"; }
		fi
		bin=/usr/lib/postgresql/@MAJOR@/bin
		if [ ! -s "$PGDATA/PG_VERSION" ]; then
			pw=$(mktemp)
			printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
			chown postgres "$pw" 2>/dev/null || true
			as_pg "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
			rm -f "$pw"
			printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
			printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
			if [ "$POSTGRES_DB" != postgres ]; then
				echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" \
					| as_pg "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
			fi
			echo "PostgreSQL initialised in $PGDATA"
		fi
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" "$@"
	EOF
	sed -i "s/@MAJOR@/$major/g" "$work/ctx/docker-entrypoint.sh"
	cat >"$work/ctx/Dockerfile" <<-EOF
		FROM debian:$debian-slim
		RUN groupadd -r -g 999 postgres && useradd -r -g postgres -u 999 -d /var/lib/postgresql postgres \
		 && apt-get update \
		 && apt-get install -y --no-install-recommends postgresql-$major postgresql-client-$major \
		 && rm -rf /var/lib/apt/lists/* \
		 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
		 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
		ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
		COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
		RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
		VOLUME /var/lib/postgresql/data
		EXPOSE 5432
		STOPSIGNAL SIGINT
		ENTRYPOINT ["docker-entrypoint.sh"]
		CMD ["postgres"]
	EOF
	build "$tag"
}

image_distroless() {
	local tag=gcr.io/distroless/static-debian12:nonroot
	have "$tag" && { log "$tag: present"; return; }
	try_pull "$tag" && return
	mkdir -p "$work/ctx"
	cat >"$work/ctx/Dockerfile" <<-'EOF'
		FROM debian:12-slim AS root
		RUN apt-get update \
		 && apt-get install -y --no-install-recommends ca-certificates tzdata \
		 && rm -rf /var/lib/apt/lists/*
		RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/share /rootfs/tmp /rootfs/home/nonroot \
		 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
		 && cp -a /usr/share/zoneinfo /rootfs/usr/share/ \
		 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/rootfs/etc/passwd \
		 && printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >/rootfs/etc/group \
		 && printf 'hosts: files dns\n' >/rootfs/etc/nsswitch.conf \
		 && chmod 1777 /rootfs/tmp && chown 65532:65532 /rootfs/home/nonroot
		FROM scratch
		COPY --from=root /rootfs/ /
		ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
		USER 65532:65532
		WORKDIR /home/nonroot
	EOF
	build "$tag"
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd)"
image_debian 12 bookworm
image_debian 13 trixie
image_golang
image_postgres 17 13
# PostgreSQL 15 only for a stack whose data volume PostgreSQL 15 made.
[[ "${KAMREG_POSTGRES_VERSION:-17}" == 15 ]] && image_postgres 15 12
image_distroless
log "done"
