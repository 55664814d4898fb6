#!/bin/bash
# Fencing with standbyd's loops unprivileged (--user nobody; the packages' vdisk-ha), which
# fence.t's other runs leave root: every path of the fence then crosses a privilege line.
# vdiskd (root) asks the loop's control socket fence-peer; the loop reads vdiskd's status
# through the group they share (vdiskd is put in nobody's group, as the packages' vdiskd is
# in vdisk), and only then lowers the flag that keeps the peer outdated; the root helper
# sends vdiskd its role requests. fence.t's trials, with its checks:
#   hacut     writes go on once the standby is outdated over the LAN; it does not take
#             over; the PC's longest stall under 2 s; the cable back: the mark cleared
#             (the loop read vdiskd's in-sync status)
#   compound  the HA cable pulled, then the active's power cut: the standby refuses to take
#             over with its outdated copy; the power back, the old active takes the role
#             again (the helper's role request) with every acknowledged write
# and in each, right after the fence, both loops are nobody's with no capability (a root
# loop cannot pass). 7-40 s: after the power comes back the PC writes again at once, or,
# when the cut left it nothing to retransmit, at its TCP keepalive (about 30 s; fence.t
# with root loops waits the same). FENCE_SCENARIOS="hacut compound mirror" adds the
# standby's vdiskd killed, for up to 30 s more.
getent passwd nobody >/dev/null || { echo "1..0 # SKIP no user nobody"; exit 0; }
FENCE_USER=nobody
FENCE_SCENARIOS=${FENCE_SCENARIOS:-hacut compound}
source "$(dirname "$0")/fence.t"
