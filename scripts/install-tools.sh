#!/usr/bin/env bash
# Install the system tools the deployment and observability tests need, only when missing:
# sshd (deploy script over real SSH), promtool + prometheus (rule tests, a real scrape),
# systemd-analyze (unit verification), node + npm (npm-groovy-lint for the Jenkinsfile).
# Idempotent; used by `make setup`. Needs root (or sudo) only when something is missing.
set -euo pipefail

declare -A PACKAGE_OF=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/bin/ssh]=openssh-client
  [/usr/bin/promtool]=prometheus
  [/usr/bin/prometheus]=prometheus
  [/usr/bin/systemd-analyze]=systemd
  [/usr/bin/node]=nodejs
  [/usr/bin/npm]=npm
  [/usr/bin/rsync]=rsync
)

missing=()
for binary in "${!PACKAGE_OF[@]}"; do
  [ -x "$binary" ] || missing+=("${PACKAGE_OF[$binary]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Debian's packages would start their daemons (sshd, prometheus) on a host with systemd; the
  # tests start their own on free ports, so keep the packaged services from starting here.
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
