#!/bin/bash
# Loads Kamailio's own usrloc and auth_db (subscriber) schema into
# PostgreSQL when it is not there yet, then runs Kamailio in the foreground
# with the reference cfg: REGISTERs are authenticated against subscriber.
#
#   KAMAILIO_DBURL            postgres://user:password@host:port/db (required)
#   KAMAILIO_ADVERTISE        the address phones reach (ip or ip:port), advertised
#                             on the SIP listeners; none when empty
#   KAMAILIO_ADVERTISE_PORT   the port for KAMAILIO_ADVERTISE when it names none (5060)
#   KAMAILIO_DB_MODE, KAMAILIO_TIMER_INTERVAL, KAMAILIO_SERVER_ID
#   KAMAILIO_SHM_MB, KAMAILIO_PKG_MB  shared and private memory (64, 8)
#   KAMAILIO_PIKE_DENSITY     requests one source address may send in 2 s
#                             before it is ignored (16); phones behind one NAT
#                             share an address
#
# The password never shows on a command line: psql gets it through PG*
# variables, Kamailio reads KAMAILIO_DBURL itself (DBURL_FROM_ENV).
set -euo pipefail
: "${KAMAILIO_DBURL:?set KAMAILIO_DBURL=postgres://user:password@host:port/db}"
: "${KAMAILIO_DB_MODE:=2}"
: "${KAMAILIO_TIMER_INTERVAL:=5}"
: "${KAMAILIO_SERVER_ID:=1}"
: "${KAMAILIO_SHM_MB:=64}"
: "${KAMAILIO_PKG_MB:=8}"
: "${KAMAILIO_ADVERTISE:=}"
: "${KAMAILIO_ADVERTISE_PORT:=5060}"
: "${KAMAILIO_PIKE_DENSITY:=16}"

urldecode() { local s="${1//+/ }"; printf '%b' "${s//%/\\x}"; }

# postgres://user:password@host:port/db → PGUSER, PGPASSWORD, PGHOST, PGPORT, PGDATABASE.
rest=${KAMAILIO_DBURL#*://}
rest=${rest%%\?*}
if [[ "$rest" == *@* ]]; then
	cred=${rest%%@*}
	rest=${rest#*@}
	PGUSER=$(urldecode "${cred%%:*}")
	[[ "$cred" == *:* ]] && PGPASSWORD=$(urldecode "${cred#*:}") && export PGPASSWORD
	export PGUSER
fi
hostport=${rest%%/*}
export PGDATABASE=${rest#*/}
export PGHOST=${hostport%:*}
[[ "$hostport" == *:* ]] && export PGPORT=${hostport##*:}

for _ in $(seq 120); do
	pg_isready -q && break
	sleep 1
done
pg_isready -q || { echo "PostgreSQL at $PGHOST did not answer in 120 s" >&2; exit 1; }
if [[ "$(psql -qtAX -c "select to_regclass('location') is not null")" != t ]]; then
	echo "loading Kamailio's usrloc schema"
	psql -q -v ON_ERROR_STOP=1 \
		-f /usr/share/kamailio/postgres/standard-create.sql \
		-f /usr/share/kamailio/postgres/usrloc-create.sql
fi
if [[ "$(psql -qtAX -c "select to_regclass('subscriber') is not null")" != t ]]; then
	echo "loading Kamailio's auth_db schema (subscriber)"
	psql -q -v ON_ERROR_STOP=1 -f /usr/share/kamailio/postgres/auth_db-create.sql
fi
unset PGPASSWORD

args=(-DD -E -f /etc/kamailio/kamailio.cfg -Y /run/kamailio -m "$KAMAILIO_SHM_MB" -M "$KAMAILIO_PKG_MB"
	-A "SIP_LISTEN=udp:0.0.0.0:5060"
	-A "SIP_LISTEN_TCP=tcp:0.0.0.0:5060"
	-A "RPC_LISTEN=tcp:0.0.0.0:5071"
	-A DBURL_FROM_ENV
	-A "DB_MODE=$KAMAILIO_DB_MODE"
	-A "TIMER_INTERVAL=$KAMAILIO_TIMER_INTERVAL"
	-A "SERVER_ID=$KAMAILIO_SERVER_ID"
	-A "PIKE_DENSITY=$KAMAILIO_PIKE_DENSITY")
if [[ -n "$KAMAILIO_ADVERTISE" ]]; then
	adv=$KAMAILIO_ADVERTISE
	[[ "$adv" == *:* ]] || adv="$adv:$KAMAILIO_ADVERTISE_PORT"
	args+=(-A "SIP_ADVERTISE=$adv")
fi
export KAMAILIO_DBURL
exec kamailio "${args[@]}"
