#!/usr/bin/env bash
# Installs what topocni needs to build and test on Debian 12, from Debian's own packages.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libyaml-cpp-dev nlohmann-json3-dev libmnl-dev libfmt-dev doctest-dev libcli11-dev
  libnftnl-dev
  iproute2 nftables python3 procps
  iptables                     # iptables-nft rules as kube-proxy writes them (test_doctor.sh)
  binutils util-linux          # readelf and unshare/nsenter for test_static_chroot.sh
  util-linux                   # setpriv and flock: test_hardening.sh plays an unprivileged local user
  containernetworking-plugins  # the real macvlan, host-local and ptp plugins, chained in the tests
  clang libclang-rt-14-dev     # libFuzzer targets
  hyperfine valgrind           # the benchmark
  podman runc conmon busybox-static  # real containers in the tests (test_podman*.sh): podman 4.3's CNI backend
  buildah                      # the installer image, built offline FROM scratch (test_image.sh)
  python3-yaml                 # parsing deploy/'s manifests (test_deploy_manifests.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
