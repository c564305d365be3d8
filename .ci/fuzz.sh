#!/usr/bin/env bash
# Runs every Fuzz* target in the module with the given budget each (default 10000x).
#
# The budget is best given as an execution count (Nx): with a duration, Go 1.26's
# fuzz coordinator can report a spurious "context deadline exceeded" failure when
# the time runs out while a worker is mid-input (golang/go#75804, fixed in Go 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-10000x}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz: $pkg $target for $budget"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" -fuzzminimizetime 200x "$pkg"
  done
done
