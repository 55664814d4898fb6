#!/bin/bash
# make bench-pxe: a boot storm of 300 PXE clients against pxed in network namespaces.
# Every client sends DISCOVER at once and REQUEST on its OFFER; the figure is the time from
# the first DISCOVER to the last ACK, against the 1 s target.
source "${SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || { echo "bench-pxe: needs root (network namespaces)"; exit 1; }
source "$SRCDIR/tests/pxe/pxe_env.sh"
px_netns || { echo "bench-pxe: cannot create namespaces"; exit 1; }
N=${PXE_STORM_CLIENTS:-300}
TARGET_MS=1000
db bulk PC "$N"
# A stand-in vdiskd: every client is in restore mode, so each boot costs an overlay-reset call.
px_fake_vdiskd '{"overlay-reset":{"ok":true}}'
px_conf dhcp "pool = 10.77.0.10-10.77.3.200" "subnet_mask = 255.255.252.0" "tftp = off"
sed -i '/^pool = 10.77.0.100-10.77.0.150$/d' "$T/pxed.conf"
ip -n "$NS_S" addr flush dev px-s0 && ip -n "$NS_S" addr add 10.77.0.1/22 dev px-s0
px_start || { echo "bench-pxe: pxed did not start"; cat "$T/pxed.log"; exit 1; }
out=$(ip netns exec "$NS_C" "$BUILD/tests/helpers/pxe_storm" px-c0 "$N")
rc=$?
ms=$(sed -n 's/.*ms=\([0-9.]*\).*/\1/p' <<<"$out")
echo "bench-pxe: boot storm: $out"
echo "bench-pxe: $N clients DISCOVER+REQUEST -> all ACKed in $ms ms (target $TARGET_MS ms, ratio $(awk "BEGIN {printf \"%.2f\", $ms / $TARGET_MS}") of target)"
echo "bench-pxe: pxed: $("$BUILD/tests/helpers/ctl_ask" "$T/pxed.sock" status | grep -E '^(received|sent|boots|overlay_resets|leases_bound|malformed):' | tr '\n' ' ')"
exit $rc
