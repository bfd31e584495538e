#!/usr/bin/env bash
# Installs what k8ts needs on a Debian machine and builds it. Idempotent and quiet when nothing is
# missing: safe to run before every start and every test run (the README's two lines do).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages the server, the node agent and the tests use.
PACKAGES=(containerd runc containernetworking-plugins busybox-static etcd-server docker-registry nftables iproute2 iptables gcc libc6-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]} (run this script as root, or install them with apt-get)"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packaged services must not start on their own: k8ts starts etcd, containerd and the registry itself.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1; fi
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ((created_policy)) && rm -f "$policy"
fi

# npm dependencies (better-sqlite3 builds from source here: about two minutes the first time).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.k8ts-installed
if [[ ! -f $stamp || "$(cat "$stamp")" != "$lock_hash" ]]; then
  say "installing npm dependencies (the first time builds better-sqlite3 from source, about two minutes)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" >"$stamp"
fi

# Compile (incremental: nothing to do when the sources did not change).
node node_modules/typescript/bin/tsc -p tsconfig.json

# The k8ts command on the PATH, for people and for the tests.
if [[ $(id -u) -eq 0 && "$(readlink -f /usr/local/bin/k8ts 2>/dev/null)" != "$PWD/bin/k8ts" ]]; then
  ln -sf "$PWD/bin/k8ts" /usr/local/bin/k8ts
fi
