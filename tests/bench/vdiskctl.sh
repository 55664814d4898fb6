#!/usr/bin/env bash
# Benchmark: vdiskctl on 10,000 clients. Prints wall-clock figures of whole commands (process
# start included), best of 5, for: importing a 10,000-row CSV into an empty database, and
# `client set --all --hot-standby on|off` over all of them. Target: each under 200 ms.
set -euo pipefail
BUILD=${BUILD:-build}
V=$BUILD/vdiskctl
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N=10000

{ echo "name,mac,ip,group,image,server,hot_standby,overlay"
  for i in $(seq 1 $N); do
	printf 'PC%05d,52:54:00:%02x:%02x:%02x,10.%d.%d.%d,,,,off,restore\n' "$i" \
		$((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255)) \
		$((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
  done; } >"$T/clients.csv"

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
best() { sort -n | head -1; }

import_ms=$(for r in 1 2 3 4 5; do
	rm -f "$T/db"*; VDISK_DB=$T/db "$V" init >/dev/null
	VDISK_DB=$T/db ms "$V" client import "$T/clients.csv"
done | best)
set_ms=$(for r in 1 2 3 4 5; do
	v=$([ $((r % 2)) = 1 ] && echo on || echo off)
	VDISK_DB=$T/db ms "$V" client set --all --hot-standby $v
done | best)
count=$(sqlite3 "$T/db" 'SELECT count(*) FROM clients')
echo "vdiskctl bench ($count clients):"
printf '  import of a %d-row CSV:        %4d ms (target < 200 ms)\n' $N "$import_ms"
printf '  set --all --hot-standby on|off: %4d ms (target < 200 ms)\n' "$set_ms"
