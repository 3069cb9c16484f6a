#!/usr/bin/env bash
# Makes the local image the example's containers are built from (no registry is reachable, so
# nothing is pulled): Debian 12 with a C++ compiler and bash, made by debootstrap from the
# machine's Debian mirror and imported into Docker as hello-base:bookworm. Run as root; once
# (it does nothing when the image exists). Takes a few minutes and ~350 MB.
#   bash examples/hello/containers/base-image.sh [IMAGE]
set -euo pipefail
image=${1:-hello-base:bookworm}
docker=/usr/bin/docker
[ -x "$docker" ] || docker=docker
if "$docker" image inspect "$image" >/dev/null 2>&1; then
  echo "base-image.sh: $image exists"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
# The mirror apt uses here (deb822 or one-line sources), else Debian's own.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
root=$(mktemp -d /tmp/hello-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "base-image.sh: debootstrap bookworm from $mirror (a few minutes)"
debootstrap --variant=minbase --include=g++,libc6-dev bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
  { tail -n 20 "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base-image.sh: made $image"
