#!/bin/bash
# set-cmdline.sh IMAGE 'KERNEL PARAMETERS': rewrites the APPEND line of syslinux.cfg on a lab
# image's boot partition with mtools, so a test can give a copy of the image other workload
# parameters (lab.seconds=, lab.rate=) without rebuilding it.
source "$(dirname "$0")/lib.sh"

[ $# = 2 ] || die "usage: set-cmdline.sh IMAGE 'KERNEL PARAMETERS'"
img=$1 params=$2
part="$img@@1M"	# the boot partition starts at 1 MiB (mkimage.sh)
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
mtype -i "$part" ::syslinux.cfg > "$cfg" || die "$img: no syslinux.cfg on its boot partition"
sed -i "s|^\( *APPEND \).*|\1$params|" "$cfg"
grep -q "^ *APPEND $params\$" "$cfg" || die "$img: syslinux.cfg has no APPEND line"
mcopy -o -i "$part" "$cfg" ::syslinux.cfg
