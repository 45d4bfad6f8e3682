#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the theorem-check suite on the default presets.
# Extra arguments go to `bovit check` (e.g. --seeds 3 --json report.json).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
exec "$root/build/apps/bovit" check "$@"
