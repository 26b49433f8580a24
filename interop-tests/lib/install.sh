# shellcheck shell=bash
# Installs what the interop tests need from Debian packages, only when something is missing.
# Source it and call `install_deps` (idempotent: a second call does nothing).

INTEROP_PACKAGES=(bird2 frr gobgpd exabgp iproute2 tcpdump jq iputils-ping procps python3 curl etcd-server etcd-client)
# A command each package provides, to notice a package removed without dpkg knowing.
declare -A INTEROP_PACKAGE_CMD=(
  [bird2]=bird [frr]=vtysh [gobgpd]=gobgpd [exabgp]=exabgp [iproute2]=ip
  [tcpdump]=tcpdump [jq]=jq [iputils-ping]=ping [procps]=ps [python3]=python3 [curl]=curl
  [etcd-server]=etcd [etcd-client]=etcdctl
)

install_deps() {
  local missing=() pkg
  for pkg in "${INTEROP_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
      missing+=("$pkg")
    elif ! PATH="$PATH:/usr/sbin:/sbin" command -v "${INTEROP_PACKAGE_CMD[$pkg]}" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "install_deps: missing ${missing[*]} and not root" >&2
    return 1
  fi
  echo "install_deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  local log
  log=$(mktemp /tmp/interop-apt.XXXXXX)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "install_deps: apt-get failed:" >&2; tail -n 20 "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}
