#!/usr/bin/env bash
# Typechecks sst.config.ts and infra/aws against SST's platform types, without AWS: `sst install`
# wants SST's own bun, which the npm `bun` package provides (linked where SST looks for it, under
# a config home inside .sst/), then fetches the providers from the npm registry and writes
# .sst/platform/config.d.ts. Nothing is deployed.
set -euo pipefail
cd "$(dirname "$0")/../.."
bun_bin="$PWD/node_modules/bun/bin/bun.exe"
[ -x "$bun_bin" ] || { echo "typecheck:infra: $bun_bin is missing; run npm ci first" >&2; exit 1; }
export XDG_CONFIG_HOME="$PWD/.sst/config-home"
mkdir -p "$XDG_CONFIG_HOME/sst/bin"
ln -sf "$bun_bin" "$XDG_CONFIG_HOME/sst/bin/bun"
if [ ! -f .sst/platform/config.d.ts ] || [ package-lock.json -nt .sst/platform/config.d.ts ]; then
  SST_SKIP_DEPENDENCY_CHECK=1 SST_TELEMETRY_DISABLED=1 SST_STAGE=dev npx sst install >/dev/null
fi
exec npx tsc -p tsconfig.infra.json
