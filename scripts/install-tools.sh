#!/usr/bin/env bash
# Install the system tools the deployment and observability tests need, only when missing:
# sshd (deploy script over real SSH), promtool + prometheus (rule tests, a real scrape),
# systemd-analyze (unit verification), node + npm + java (npm-groovy-lint, which runs CodeNarc,
# for the Jenkinsfile), the system Python's venv module (the deploy test builds a release's
# virtualenv as the host would), Debian's chromium and a text font (tests/browser/ drive it through
# the playwright package, never a browser build of its own).
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
  [/usr/bin/java]=default-jre-headless
  [/usr/bin/chromium]=chromium
)

missing=()
for binary in "${!PACKAGE_OF[@]}"; do
  [ -x "$binary" ] || missing+=("${PACKAGE_OF[$binary]}")
done
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=(fonts-liberation)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
