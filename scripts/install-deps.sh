#!/usr/bin/env bash
# Installs the Debian 12 packages tandem needs to build and test, and only those missing.
# Safe to run again; needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git ca-certificates
  ccache          # scripts/build.sh compiles through it: a rebuild of an unchanged file is a cache hit
  libboost-dev    # Boost.Asio and Boost.Beast, header-only; no Boost.Filesystem or Process (docs/architecture.md)
  libyaml-cpp-dev libgit2-dev
  libfmt-dev      # fmt 9: messages and tables (GCC 12 has no std::format)
  nlohmann-json3-dev doctest-dev
  openssh-client  # ssh-keygen: shipper --allowed-signers checks SSH-signed commits, --checkpoint-key signs audit checkpoints; ssh: fetches over ssh
  openssh-server  # tests only: a throwaway sshd on 127.0.0.1 that shipper fetches from with a key
  python3         # tests only: a smart-HTTP git server (git http-backend) that requires a token
  bubblewrap      # bwrap: the sandbox of builds under the policy knob builds.sandbox (on in harness)
  docker.io       # dockerd 20.10 (Engine API 1.41): the docker runtime; tests/support/dockerd.sh starts it for the tests
  busybox-static  # tests only: /bin/busybox in the docker tests' FROM scratch images (nothing is ever pulled)
  curl            # tests only: tests/support/dockerd.sh asks the daemon's socket for /_ping
  docker-registry # tests only: the registry beside the swarm of tests/support/swarm.sh (issue 17)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
