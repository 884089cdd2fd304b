#!/usr/bin/env bash
# CI gate for policies/: formatted, strict-checked, tested, and the committed
# Wasm build (policies/build/) byte-identical to a fresh build of the sources.
# `opa build -t wasm` is deterministic for a given opa version (same sources
# give the same policy.wasm and data.json bytes), so the build is pinned.
#
#   scripts/check-policies.sh        (from anywhere; OPA_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."

OPA_PIN="1.22.3"
opa="${OPA_BIN:-}"
if [[ -z "$opa" ]]; then
  if command -v opa >/dev/null 2>&1; then opa="$(command -v opa)"; elif [[ -x "$HOME/go/bin/opa" ]]; then opa="$HOME/go/bin/opa"; fi
fi
if [[ -z "$opa" ]]; then
  echo "check-policies: opa not found; install it: go install github.com/open-policy-agent/opa@v$OPA_PIN" >&2
  exit 2
fi
version="$("$opa" version | sed -n 's/^Version: //p')"
if [[ "$version" != "$OPA_PIN" ]]; then
  echo "check-policies: $opa is opa $version; the committed build is pinned to v$OPA_PIN (a different version compiles different bytes)" >&2
  exit 2
fi

step() { echo "== $*"; }

step "opa fmt"
if ! "$opa" fmt --list --fail policies/ test/policy/fixtures/; then
  echo "check-policies: run: opa fmt -w policies/" >&2
  exit 1
fi

step "opa check --strict"
"$opa" check --strict policies/

step "opa test"
"$opa" test policies/

step "policies/build is fresh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
OPA_BIN="$opa" node scripts/build-policies.mjs --out "$tmp" >/dev/null
stale=0
for f in policy.wasm data.json; do
  if ! cmp -s "$tmp/$f" "policies/build/$f"; then
    echo "check-policies: policies/build/$f differs from a fresh build of the sources" >&2
    stale=1
  fi
done
if [[ $stale -ne 0 ]]; then
  echo "check-policies: run: npm run build:policies, and commit policies/build/" >&2
  exit 1
fi
echo "policies OK (opa $version)"
