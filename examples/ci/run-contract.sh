#!/usr/bin/env bash
# Contract-test an Apollo client with fakeapollo, then run your own tests against it.
#
#   CLIENT_CMD="node my_client.js" TEST_CMD="npm test" examples/ci/run-contract.sh
#
# 1. starts `fakeapollo serve` in the background and waits until it answers;
# 2. runs `fakeapollo check-client --cmd "$CLIENT_CMD"` (its own in-process emulator, primed per case);
# 3. runs "$TEST_CMD" (if set) with APOLLO_BASE_URL, APOLLO_API_URL and APOLLO_API_KEY pointing at the
#    background emulator, so your suite never calls the real Apollo;
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

# shellcheck disable=SC2086  # FAKEAPOLLO and CHECK_ARGS are word lists on purpose
$FAKEAPOLLO serve --port "$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$BASE_URL/openapi.json" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "fakeapollo serve exited:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE_URL/openapi.json" || { echo "fakeapollo never answered" >&2; cat "$LOG" >&2; exit 1; }
echo "fakeapollo is serving on $BASE_URL"

echo "::group::fakeapollo check-client"
# shellcheck disable=SC2086
$FAKEAPOLLO check-client --cmd "$CLIENT_CMD" ${CHECK_ARGS:-}
echo "::endgroup::"

if [ -n "${TEST_CMD:-}" ]; then
  echo "::group::your tests against fakeapollo"
  APOLLO_BASE_URL="$BASE_URL" APOLLO_API_URL="$BASE_URL/api/v1" APOLLO_API_KEY="test-key" \
    sh -c "$TEST_CMD"
  echo "::endgroup::"
fi
