#!/bin/bash
# Writes reach the peer in WRITE BATCH commands (mirror_proto.h) when several arrive in one
# loop round, and a lone write as a plain WRITE: a client at queue depth 1 sends no batch, one
# at queue depth 32 sends most of its writes in batches. The batched copy must be the disk:
# after a power cut of the active, every acknowledged write reads back from the other server.
source "$(dirname "$0")/../lib/tap.sh"
source "$SRCDIR/tests/mirror/mirror-lib.sh"
mr_require
LOG=$SB_DIR/w.seq

check "topology" -- sb_topology
check "database, pair secret, haresources" -- mr_setup
mr_vdiskd_start a primary
mr_vdiskd_start b secondary
sb_pair_up
check "a's mirror in sync" -- mr_wait_mirror a in-sync 10000

# queue depth 1: a held session keeps the disk (and its counters) open between the runs
mr_seqio_bg "$SB_DIR/hold.out" "$SB_DIR/hold.err" hold "$SB_VIP:3260" "$MR_INI_HS" /dev/null \
	--replacement-ms 60000
HOLD=$MR_BG
check "PC001's disk open on a, its mirror in sync" -- mr_wait_client a PC001 in-sync 5000
mirrored0=$(mr_client_field a PC001 mirrored)
out=$(mr_seqio write "$SB_VIP:3260" "$MR_INI_HS" "$LOG" --qd 1 --seconds 1 --quiet 2>&1)
ok "$([ "$(mr_field "$out" acked)" -gt 100 ] 2>/dev/null; echo $?)" \
	"queue depth 1: PC001 wrote for 1 s ($(mr_field "$out" acked) writes)"
line=$(mr_vstatus a | grep "^mirror_client: PC001 ")
diag "a: $line"
is "$(( $(mr_field "$line" mirrored) - mirrored0 ))" "$(mr_field "$out" acked)" \
	"queue depth 1: every write went to the peer"
is "$(mr_field "$line" batches)" 0 "queue depth 1: no write batch (a lone write goes alone)"

# queue depth 32, cut after 1.5 s of writes
MR_WRITER_OPTS="--qd 32" MR_CUT_MIN_MS=1500 MR_CUT_SPAN_MS=1 \
	mr_one_cut a "$LOG" cut || bail_out "the writer did not run"
diag "a before the cut: $CUT_STATUS"
batches=$(mr_field "$CUT_STATUS" batches) batched=$(mr_field "$CUT_STATUS" batched)
mirrored=$(mr_field "$CUT_STATUS" mirrored)
ok "$([ "${batches:-0}" -gt 0 ] && [ "$batched" -ge $((2 * batches)) ]; echo $?)" \
	"queue depth 32: writes went in batches ($batched writes in $batches batches)"
ok "$([ "${batched:-0}" -gt $((mirrored / 2)) ]; echo $?)" \
	"queue depth 32: most writes to the peer were batched ($batched of $mirrored)"
is "$CUT_LOST" 0 "power cut of a: every acknowledged write reads back from b"
kill "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
check "no sanitizer report from the daemons" -- sb_logs_clean
done_testing
