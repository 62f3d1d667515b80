#!/usr/bin/env bash
# CI's image stage (called by .ci/run after the PostgreSQL + Redis pass, after `make image`): run the image as a
# deployment does, against CI's PostgreSQL and Redis on the host network (podman, runc), and place an order
# through the API.
#
#   1. one-shot `manage.py setup` (migrate, demo catalog, spot, identity, schedules) on a database of its own;
#   2. web (the image's default command, daphne) and worker (`manage.py qcluster`) containers;
#   3. wait for the image's HEALTHCHECK to report healthy;
#   4. one-shot `manage.py company` / `manage.py apikey` / `dream whoami` / `dream health`;
#   5. quote (price-locked) -> approve -> execute with wire payment over HTTP with the keys;
#   6. stop and remove the containers and the database.
#
# Needs: DATABASE_URL's server reachable as postgres://postgres@127.0.0.1:5432, Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${DREAMNET_IMAGE:-localhost/dreamnet:latest}"
db="${DREAMNET_IMAGE_DB:-dreamnet_image_ci}"
port="${DREAMNET_IMAGE_PORT:-8765}"
redis_db="${DREAMNET_IMAGE_REDIS_DB:-9}"
name="dreamnet-ci-$$"
volume="$name-home"
base_url="http://127.0.0.1:$port"

# shellcheck source=containers/podman-env.sh
. containers/podman-env.sh

started=$SECONDS
fail() {
  echo "image stage: $*" >&2
  for c in web worker; do
    if podman container exists "$name-$c"; then
      echo "--- last log lines of $name-$c" >&2
      podman logs --tail 40 "$name-$c" >&2 || true
    fi
  done
  exit 1
}
cleanup() {
  podman rm -f -t 10 "$name-web" "$name-worker" >/dev/null 2>&1 || true
  dropdb -h 127.0.0.1 -U postgres --if-exists "$db" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 -n "$redis_db" flushdb >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  podman secret rm "$name-secret-key" "$name-database-url" >/dev/null 2>&1 || true
}
trap cleanup EXIT

dropdb -h 127.0.0.1 -U postgres --if-exists "$db"
createdb -h 127.0.0.1 -U postgres "$db"
redis-cli -h 127.0.0.1 -p 6379 -n "$redis_db" flushdb >/dev/null

# The secret key and the database URL reach the containers as files (*_FILE), as in compose.yaml.
python3 -c 'import secrets; print(secrets.token_urlsafe(50))' | podman secret create "$name-secret-key" - >/dev/null
printf 'postgres://postgres@127.0.0.1:5432/%s' "$db" | podman secret create "$name-database-url" - >/dev/null
env_args=(
  -e DREAMNET_ENV=production
  --secret "$name-secret-key,type=mount,target=secret_key,uid=10001,mode=0400"
  -e SECRET_KEY_FILE=/run/secrets/secret_key
  --secret "$name-database-url,type=mount,target=database_url,uid=10001,mode=0400"
  -e DATABASE_URL_FILE=/run/secrets/database_url
  -e DREAMNET_ALLOWED_HOSTS=localhost,127.0.0.1
  -e DREAMNET_SSL_REDIRECT=false
  -e REDIS_URL="redis://127.0.0.1:6379/$redis_db"
  -e PORT="$port"
  -e DREAMNET_Q_WORKERS=2
  -e DREAMNET_HEALTH_MIN_FREE_MB=64
)
run_args=(--pull=never --network host "${env_args[@]}" -v "$volume:/var/lib/dreamnet")
# One-shots skip the HEALTHCHECK; the web container's is run by this script (`podman healthcheck run`): podman
# schedules it with systemd timers, which a machine without systemd lacks (podman logs an error and goes on).
oneshot() { podman run --rm --no-healthcheck "${run_args[@]}" "$tag" "$@"; }

echo "== image stage: setup (one-shot: migrate, demo catalog, identity, schedules)"
oneshot python manage.py setup || fail "manage.py setup failed"

echo "== image stage: web and worker containers"
podman run -d --name "$name-web" "${run_args[@]}" "$tag" >/dev/null || fail "the web container did not start"
podman run -d --name "$name-worker" "${run_args[@]}" --no-healthcheck "$tag" python manage.py qcluster >/dev/null ||
  fail "the worker container did not start"

echo "== image stage: waiting for the health check"
healthy=""
for _ in $(seq 1 90); do
  # Runs the image's HEALTHCHECK command once and records the result (podman has no systemd timer here).
  if podman healthcheck run "$name-web" >/dev/null 2>&1; then
    healthy=yes
    break
  fi
  podman container exists "$name-web" && [ "$(podman inspect -f '{{.State.Running}}' "$name-web")" = true ] ||
    fail "the web container exited"
  sleep 1
done
[ -n "$healthy" ] || fail "the web container was not healthy within 90 s"
echo "   healthy after $((SECONDS - started)) s: $(podman inspect -f '{{.State.Health.Status}}' "$name-web" 2>/dev/null || true)"

echo "== image stage: company, members and keys (one-shot manage.py)"
oneshot sh -c '
  set -e
  python manage.py createsuperuser --noinput --username ci-buyer --email ci-buyer@example.invalid >/dev/null
  python manage.py createsuperuser --noinput --username ci-approver --email ci-approver@example.invalid >/dev/null
  python manage.py company create ci-metals --name "CI Metals" --verified
  python manage.py company add-member ci-metals ci-buyer --role buyer
  python manage.py company add-member ci-metals ci-approver --role approver
' || fail "creating the company failed"
key_for() {
  oneshot python manage.py apikey create --name "ci-$1" --scopes commerce --company ci-metals --as "ci-$1" |
    tail -n 1
}
buyer_key="$(key_for buyer)" || fail "creating the buyer key failed"
approver_key="$(key_for approver)" || fail "creating the approver key failed"

echo "== image stage: dream whoami / dream health (one-shot)"
oneshot dream whoami || fail "dream whoami failed"
oneshot dream health || fail "dream health reported the node down"

echo "== image stage: an order through the API (quote -> approve -> execute, wire)"
BASE_URL="$base_url" BUYER_KEY="$buyer_key" APPROVER_KEY="$approver_key" python3 - <<'PY' || fail "the order did not go through"
import json, os, urllib.request

base = os.environ["BASE_URL"]


def call(method, path, key, body=None, expect=200):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"X-DREAMNET-KEY": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read().decode()
    if status != expect:
        raise SystemExit(f"{method} {path}: {status} (expected {expect}): {payload}")
    return payload


buyer, approver = os.environ["BUYER_KEY"], os.environ["APPROVER_KEY"]
lines = {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 12}], "payment_method": "wire"}
quote = call("POST", "/api/commerce/quotes", buyer, lines, expect=201)
print(f"   quote {quote['id']}: total {quote['total']}, price locked at {quote['locked_at']} until {quote['expires_at']}, needs approval {quote['needs_approval']}")
if not quote["needs_approval"]:
    raise SystemExit("the quote is under the company's approval threshold; the stage must exercise approval")
call("POST", f"/api/commerce/quotes/{quote['id']}/approve", approver)
order = call("POST", f"/api/commerce/quotes/{quote['id']}/execute", buyer, {"lock_token": quote["lock_token"]}, expect=201)
if order["status"] != "pending_payment":
    raise SystemExit(f"the order is {order['status']}, expected pending_payment")
print(f"   order {order.get('number', order.get('id'))}: {order['status']} (wire), total {order.get('total')}")
PY

health_json="$(curl -fsS -H 'Host: localhost' "$base_url/api/health?detail=coherence")" || fail "/api/health?detail=coherence failed"
python3 -c 'import json, sys; c = json.loads(sys.argv[1])["coherence"]; print("   coherence:", c["window"]["rounds"], "rounds;", c["reading"])' "$health_json" ||
  fail "/api/health?detail=coherence has no coherence object"

echo "== image stage: stopping"
podman stop -t 20 "$name-web" "$name-worker" >/dev/null || fail "the containers did not stop"
podman volume rm -f "$volume" >/dev/null 2>&1 || true
echo "== image stage passed in $((SECONDS - started)) s"
