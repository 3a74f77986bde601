#!/bin/sh
# Make sure Debian's chromium and chromium-driver are there for tests/test_inspector_browser.py.
# Installs them as root where apt-get exists (unless BROWSER=skip); otherwise warns loudly.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "${BROWSER:-auto}" != "skip" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium and chromium-driver (apt-get) for the inspector page's browser test ..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
    && exit 0
  echo "apt-get could not install chromium and chromium-driver" >&2
fi
cat >&2 <<'WARN'
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARNING: chromium and chromium-driver are not installed: the inspector page's browser test
(tests/test_inspector_browser.py) will be SKIPPED. Install them (Debian: apt-get install chromium
chromium-driver) or run `make test` as root on Debian, which installs them.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARN
exit 0
