#!/usr/bin/env bash
# Lint the Jenkinsfile with npm-groovy-lint (CodeNarc: parses the Groovy, then checks it),
# installed at the version locked in tools/jenkins-lint/ into var/tools/ on first use.
# Used by tests/ops/test_jenkinsfile.py, hence by `make test`. Needs node, npm and java
# (scripts/install-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=var/tools/jenkins-lint
if ! cmp -s tools/jenkins-lint/package-lock.json "$tools/package-lock.json" || [ ! -x "$tools/node_modules/.bin/npm-groovy-lint" ]; then
  mkdir -p "$tools"
  cp tools/jenkins-lint/package.json tools/jenkins-lint/package-lock.json "$tools/"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >&2
fi
# --noserver: no CodeNarc server left running after the check
exec "$tools/node_modules/.bin/npm-groovy-lint" --noserver --failon warning --output txt "${@:-Jenkinsfile}"
