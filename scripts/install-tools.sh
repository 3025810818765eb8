#!/usr/bin/env bash
# Installs the system tools the tests drive for real: Groovy 2.4 with a JDK, headless Chromium,
# npm (for CodeNarc, make lint),
# git. Idempotent: does nothing when they are already there. Needs root (CI runs as root) or sudo.
set -euo pipefail

need=()
command -v groovy >/dev/null 2>&1 || need+=(groovy)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v git >/dev/null 2>&1 || need+=(git)
# make lint: npm installs npm-groovy-lint, whose CodeNarc jars run on the JDK above.
command -v npm >/dev/null 2>&1 || need+=(npm)
# `install-tools.sh bench`: also the load generator the benchmarks use (make bench).
if [ "${1:-}" = bench ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-tools: installing ${need[*]} from Debian's packages" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-tools: need root or sudo to install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}"
