#!/bin/sh
# Loads Kamailio's own usrloc schema into PostgreSQL when it is not there
# yet, then runs Kamailio in the foreground with the reference cfg.
set -eu
: "${KAMAILIO_DBURL:?set KAMAILIO_DBURL=postgres://user:password@host:port/db}"
: "${KAMAILIO_DB_MODE:=2}"
: "${KAMAILIO_TIMER_INTERVAL:=5}"
: "${KAMAILIO_SERVER_ID:=1}"

until pg_isready -q -d "$KAMAILIO_DBURL"; do sleep 1; done
if [ "$(psql -qtAX -d "$KAMAILIO_DBURL" -c "select to_regclass('location') is not null")" != "t" ]; then
	echo "loading Kamailio's usrloc schema"
	psql -q -v ON_ERROR_STOP=1 -d "$KAMAILIO_DBURL" \
		-f /usr/share/kamailio/postgres/standard-create.sql \
		-f /usr/share/kamailio/postgres/usrloc-create.sql
fi

exec kamailio -DD -E -f /etc/kamailio/kamailio.cfg \
	-A "SIP_LISTEN=udp:0.0.0.0:5060" \
	-A "SIP_LISTEN_TCP=tcp:0.0.0.0:5060" \
	-A "RPC_LISTEN=tcp:0.0.0.0:5071" \
	-A "DBURL=\"$KAMAILIO_DBURL\"" \
	-A "DB_MODE=$KAMAILIO_DB_MODE" \
	-A "TIMER_INTERVAL=$KAMAILIO_TIMER_INTERVAL" \
	-A "SERVER_ID=$KAMAILIO_SERVER_ID"
