#!/bin/bash
# The overlay chunk-size measurement behind docs/image-store.md: for each chunk size, 4 KiB
# writes at QD 32 that each land in a chunk not yet in the overlay (the copy-up cost and the
# space it takes), then 1 MiB sequential reads at QD 16 over a region where those chunks are
# scattered among base chunks (how reads split at chunk boundaries). The store alone, no
# iSCSI. Usage: tests/bench/store_chunks.sh [ALLOCS] [REPEATS]
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
bench=$BUILD/tests/helpers/store_bench
allocs=${1:-5000}
repeats=${2:-2}
[ -x "$bench" ] || { echo "store_chunks: $bench not built (make tests)" >&2; exit 1; }
dir=$(mktemp -d /tmp/vs-chunks.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# A sparse 8 GiB base: reading its holes is cheap, so the figures are the overlay's cost.
truncate -s 8G "$dir/base.img"
printf '%-8s %-4s %12s %12s %12s %14s %14s\n' chunk run alloc_iops alloc_p99_us \
	overlay_MiB seqread_MB/s map_KiB/GiB
for chunk in 4096 16384 32768 65536 131072; do
	for r in $(seq "$repeats"); do
		rm -f "$dir"/ov.*
		sync  # start without the previous run's dirty pages being written back
		a=$("$bench" --op alloc --count "$allocs" --seconds 120 --threads 16 --chunk "$chunk" \
			"$dir/base.img" "$dir/ov")
		s=$("$bench" --op seqread --bs 1048576 --qd 16 --count 2048 --threads 16 \
			"$dir/base.img" "$dir/ov")
		printf '%-8s %-4s %12s %12s %12s %14s %14s\n' "$chunk" "$r" \
			"$(echo "$a" | awk '{print $6}')" "$(echo "$a" | awk '{print $12}')" \
			"$(echo "$a" | awk '{print $14}')" "$(echo "$s" | awk '{print $8}')" \
			"$((1024 * 1024 * 1024 / chunk / 8 / 1024))"
	done
done
