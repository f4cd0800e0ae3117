#!/usr/bin/env bash
# `make dist`: the release artifact dist/addon-partner-<version>-<commit>.tar.gz, holding the
# committed code (no tests, no benchmarks), requirements.lock (every runtime package pinned, as
# installed in the tested .venv) and RELEASE (version, commit, build time). deploy/deploy.sh
# installs it on a host. Built from HEAD: uncommitted changes are not released.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON_BIN:-.venv/bin/python}
version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
commit=$(git rev-parse HEAD)
name="addon-partner-${version}-${commit:0:12}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

git archive --format=tar --prefix="$name/" HEAD -- . ':(exclude)tests' ':(exclude)bench' | tar -x -C "$stage"
"$python" scripts/lock_requirements.py requirements.txt > "$stage/$name/requirements.lock"
{
  echo "# written by make dist"
  echo "version=$version"
  echo "commit=$commit"
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$stage/$name/RELEASE"

mkdir -p dist
tar -czf "dist/$name.tar.gz.tmp" -C "$stage" "$name"
mv "dist/$name.tar.gz.tmp" "dist/$name.tar.gz"
echo "dist/$name.tar.gz"
