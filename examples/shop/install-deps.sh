#!/usr/bin/env bash
# Installs the Debian 12 packages the shop example runs on (Flask under gunicorn, redis,
# postgres 15), only those missing, without starting their system daemons or creating
# postgres' `main` cluster: the example runs its own redis and postgres as local processes.
# Safe to run again; needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  python3-flask gunicorn python3-redis python3-psycopg2
  redis-server redis-tools
  postgresql-15 postgresql-client-15
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "shop install-deps: everything is installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# Debian starts redis-server and postgresql on install (policy-rc.d exit 101 forbids it) and
# postgresql-common creates a `main` cluster (createcluster.conf forbids that).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# shop install-deps: no daemon starts during the install\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  own_policy=1
fi
restore() { if [ "$own_policy" = 1 ]; then $sudo rm -f "$policy"; fi; }
trap restore EXIT
$sudo mkdir -p /etc/postgresql-common
conf=/etc/postgresql-common/createcluster.conf
if ! grep -qs '^create_main_cluster *= *false' "$conf"; then
  echo "create_main_cluster = false" | $sudo tee -a "$conf" >/dev/null
fi

# A redis or postgres that ran before the install is someone else's: left alone below.
running_before=$(pgrep -x 'redis-server|postgres' || true)

echo "shop install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"

# Whatever slipped through (a system that ignores policy-rc.d): stop the daemons the install
# started, so that none is left running.
if [ -z "$running_before" ] && pgrep -x 'redis-server|postgres' >/dev/null; then
  for unit in redis-server postgresql; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
      $sudo systemctl stop "$unit" || true
    elif [ -x "/etc/init.d/$unit" ]; then
      $sudo "/etc/init.d/$unit" stop >/dev/null 2>&1 || true
    fi
  done
fi
