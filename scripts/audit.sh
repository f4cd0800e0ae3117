#!/usr/bin/env bash
# `make audit`: known vulnerabilities in the pinned requirements (pip-audit, each pin as written,
# no resolution: every requirement is pinned with ==, tests/security/test_requirements_pinned.py).
# It needs a package index that serves vulnerability advisories. Where none answers, nothing was
# audited: this says so plainly and exits 2, never 0. Not part of `make test`.
#   scripts/audit.sh [requirements files…]   (default: requirements.txt requirements-dev.txt)
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(requirements.txt requirements-dev.txt)
args=()
for file in "${files[@]}"; do args+=(-r "$file"); done
pins=$(cat "${files[@]}" | grep -cE '^[A-Za-z0-9][^#]*==')

output=$("$VENV/bin/pip-audit" --no-deps --disable-pip --strict --progress-spinner off "${args[@]}" 2>&1)
status=$?
echo "$output"
if [ $status -eq 0 ]; then
    echo "make audit: ${pins} pinned packages audited, no known vulnerability."
    exit 0
fi
if grep -qiE 'could not be audited|connection|timed out|HTTPError|SSLError|not found on' <<<"$output"; then
    echo "make audit: COULD NOT AUDIT the ${pins} pinned packages: the package index did not serve" \
        "vulnerability advisories (see above). Nothing was audited; run it where the index serves them." >&2
    exit 2
fi
echo "make audit: known vulnerabilities in the pinned requirements (above): update those pins (CONTRIBUTING.md)." >&2
exit 1
