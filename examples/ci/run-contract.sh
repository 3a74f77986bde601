#!/usr/bin/env bash
# Contract-test an Apollo client with fakeapollo, then run your own tests against it.
#
#   CLIENT_CMD="node my_client.js" TEST_CMD="npm test" examples/ci/run-contract.sh
#
# 1. starts `fakeapollo serve` in the background with a fresh random admin token and waits until it
#    answers; it fails when that server did not start, and checks (by that token) that the server on
#    the port is the one it started, not another one that was already listening there;
# 2. runs `fakeapollo check-client --base-url ... --cmd "$CLIENT_CMD"` against that emulator (each
#    case's answers are queued on it through the control API, with the admin token);
# 3. runs "$TEST_CMD" (if set) with APOLLO_BASE_URL, APOLLO_API_URL and APOLLO_API_KEY pointing at the
#    background emulator, so your suite never calls the real Apollo (FAKEAPOLLO_ADMIN_TOKEN holds the
#    token its control API /__admin/ wants, as `Authorization: Bearer $FAKEAPOLLO_ADMIN_TOKEN`);
# 4. stops the emulator. The exit status is the first failure's.
#
# Settings (environment): FAKEAPOLLO (how to run fakeapollo; default `fakeapollo`), FAKEAPOLLO_PORT
# (default 8765), CHECK_ARGS (extra check-client options, e.g. "--examples 20 --seed 1"),
# FAKEAPOLLO_LOG (default $RUNNER_TEMP/fakeapollo.log or /tmp/fakeapollo.log).
set -euo pipefail

: "${CLIENT_CMD:?set CLIENT_CMD to the command that runs your client (see fakeapollo check-client --help)}"
FAKEAPOLLO=${FAKEAPOLLO:-fakeapollo}
PORT=${FAKEAPOLLO_PORT:-8765}
LOG=${FAKEAPOLLO_LOG:-${RUNNER_TEMP:-/tmp}/fakeapollo.log}
BASE_URL="http://127.0.0.1:${PORT}"
# A token only the server started here knows: another server on the port cannot answer to it.
FAKEAPOLLO_ADMIN_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export FAKEAPOLLO_ADMIN_TOKEN

fail() {
  echo "run-contract.sh: $1" >&2
  echo "--- fakeapollo's output ($LOG):" >&2
  cat "$LOG" >&2
  exit 1
}

# Is the server on the port ours? Ours refuses the control API without its token and accepts it with.
ours() {
  local without with
  without=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE_URL/__admin/clock" 2>/dev/null) || return 1
  with=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FAKEAPOLLO_ADMIN_TOKEN" \
    "$BASE_URL/__admin/clock" 2>/dev/null) || return 1
  [ "$without" = 401 ] && [ "$with" = 200 ]
}

# shellcheck disable=SC2086  # FAKEAPOLLO and CHECK_ARGS are word lists on purpose
$FAKEAPOLLO serve --port "$PORT" --admin-token "$FAKEAPOLLO_ADMIN_TOKEN" >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT

started=false
for _ in $(seq 1 150); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "fakeapollo serve exited before it answered (is port $PORT taken?)"
  fi
  if ours; then
    started=true
    break
  fi
  sleep 0.2
done
[ "$started" = true ] || fail "the server on $BASE_URL is not the one this script started (or it never answered)"
echo "fakeapollo is serving on $BASE_URL"

echo "::group::fakeapollo check-client"
# shellcheck disable=SC2086
$FAKEAPOLLO check-client --base-url "$BASE_URL" --admin-token "$FAKEAPOLLO_ADMIN_TOKEN" --cmd "$CLIENT_CMD" ${CHECK_ARGS:-}
echo "::endgroup::"

if [ -n "${TEST_CMD:-}" ]; then
  echo "::group::your tests against fakeapollo"
  APOLLO_BASE_URL="$BASE_URL" APOLLO_API_URL="$BASE_URL/api/v1" APOLLO_API_KEY="test-key" \
    sh -c "$TEST_CMD"
  echo "::endgroup::"
fi
