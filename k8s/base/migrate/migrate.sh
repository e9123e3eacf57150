#!/bin/sh
# Applies a domain's migrations exactly as `eventos migrate` does: files named
# NNNN_name.sql in version order, each in one transaction with its row in the
# eventos_migrations ledger (version, name, SHA-256 of the file); a file changed
# after it was applied stops everything.
#
# usage: DATABASE_URL=postgres://... migrate.sh <migrations dir>
# needs: psql, sha256sum (both in the official postgres image)
set -eu

dir=${1:?usage: migrate.sh <migrations dir>}
: "${DATABASE_URL:?set DATABASE_URL}"
psql_q() { psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -X -q -At "$@"; }

psql_q -c "CREATE TABLE IF NOT EXISTS eventos_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"

applied=0
already=0
for file in $(ls "$dir" | grep '\.sql$' | sort); do
  base=${file%.sql}
  version=${base%%_*}
  name=${base#*_}
  case "$version" in
    [0-9][0-9][0-9][0-9]) ;;
    *) echo "migrate: $file must be named NNNN_lower_snake_name.sql" >&2; exit 1 ;;
  esac
  checksum=$(sha256sum "$dir/$file" | cut -d' ' -f1)
  recorded=$(psql_q -c "SELECT checksum FROM eventos_migrations WHERE version = '$version'")
  if [ -n "$recorded" ]; then
    if [ "$recorded" != "$checksum" ]; then
      echo "migrate: migration ${version}_${name} was changed after it was applied; add a new migration instead of editing it" >&2
      exit 1
    fi
    already=$((already + 1))
    continue
  fi
  psql_q --single-transaction \
    -c "SELECT pg_advisory_xact_lock(28559150664675187)" \
    -f "$dir/$file" \
    -c "INSERT INTO eventos_migrations (version, name, checksum) VALUES ('$version', '$name', '$checksum')"
  applied=$((applied + 1))
done
echo "migrate: $applied migration(s) applied, $already already applied"
