#!/usr/bin/env bash
# Write the secrets compose.yaml reads (secrets/*, mode 0600), once: existing files are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
mkdir -p secrets
chmod 700 secrets
token() { python3 -c 'import secrets, sys; print(secrets.token_urlsafe(int(sys.argv[1])))' "$1"; }
[ -s secrets/secret_key ] || token 50 >secrets/secret_key
[ -s secrets/admin_password ] || token 18 >secrets/admin_password
[ -s secrets/postgres_password ] || token 24 >secrets/postgres_password
[ -s secrets/database_url ] ||
  printf 'postgres://dreamnet:%s@db:5432/dreamnet\n' "$(cat secrets/postgres_password)" >secrets/database_url
# Compose bind-mounts file secrets with their host modes, and the image runs as uid 10001: the files must be
# readable by it; the 0700 folder keeps other users of this host out.
chmod 644 secrets/*
echo "secrets/ ready (operator password in secrets/admin_password; sign in as 'operator')"
