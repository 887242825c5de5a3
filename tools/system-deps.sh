#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need (redis-server, chromium, CJK fonts,
# wrk) when missing.
# Without root or apt it says exactly what to install; the tests that need a missing one are then
# skipped with that reason, except under CI=true, where the test suite fails instead.
set -u
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)  # the load generator of make bench
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || echo "could not install ${missing[*]}: run 'sudo apt-get install ${missing[*]}'"
else
  echo "missing system packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
  echo "the tests that need them are skipped (under CI=true they fail)."
fi
exit 0
