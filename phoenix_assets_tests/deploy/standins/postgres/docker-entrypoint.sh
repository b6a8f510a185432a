#!/bin/sh
# STAND-IN for the official postgres image's entrypoint (see the Containerfile): on the
# first start (an empty $PGDATA) it creates the cluster with POSTGRES_USER (default
# postgres) and POSTGRES_PASSWORD (required) and the database POSTGRES_DB (default: the
# user's name), then runs the server as the postgres user. Local connections are
# trusted, network ones need the password (scram-sha-256), as in the official image.
set -eu

if [ "${1:-}" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres stand-in: POSTGRES_PASSWORD must be set" >&2
        exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 -D "$PGDATA" > /dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    if [ "$db" != postgres ]; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start > /dev/null
        # psql quotes the name (:"db"); it interpolates variables read from stdin only.
        echo 'CREATE DATABASE :"db";' | psql -v ON_ERROR_STOP=1 --username="$user" \
            --dbname=postgres --set=db="$db" > /dev/null
        pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
    fi
    echo "postgres stand-in: created the cluster, role $user and database $db"
fi

exec "$@"
