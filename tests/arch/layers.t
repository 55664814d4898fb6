#!/bin/bash
# The dependency rule of docs/architecture.md, checked on every #include "..." of the tree:
#   - programs never include each other's code: common/ includes only common/; db/ common/
#     and db/; each program's folder (vdisk-server, standby, pxe, client-admin) common/, db/
#     and itself;
#   - inside vdisk-server/, a file includes headers of its own layer or of a layer below it,
#     never above: store/ < mirror/ (a store) < scsi/ < iscsi/ (the transport) < the
#     assembly in vdisk-server/ itself, by folder.
# Then the check itself is checked on a scratch tree with one violation of each kind.
source "$(dirname "$0")/../lib/tap.sh"

# layer PATH: the vdisk-server layer of a file, by its folder, as a rank (higher is above)
layer() {
	case $1 in
	*vdisk-server/store/*) echo "0 store" ;;
	*vdisk-server/mirror/*) echo "1 mirror" ;;
	*vdisk-server/scsi/*) echo "2 scsi" ;;
	*vdisk-server/iscsi/*) echo "3 transport" ;;
	*) echo "4 assembly" ;;
	esac
}

# may_include FOLDER TARGET-FOLDER
may_include() {
	case $1 in
	common) [ "$2" = common ] ;;
	db) [ "$2" = common ] || [ "$2" = db ] ;;
	*) [ "$2" = common ] || [ "$2" = db ] || [ "$2" = "$1" ] ;;
	esac
}

# violations ROOT: one line per #include that breaks the rule
violations() {
	local root=$1 f dir inc to mine theirs
	for dir in common db vdisk-server standby pxe client-admin; do
		for f in "$root/$dir"/*.[ch] "$root/$dir"/*/*.[ch]; do
			[ -e "$f" ] || continue
			while read -r inc; do
				to=${inc%%/*}
				if ! may_include "$dir" "$to"; then
					echo "${f#"$root"/} includes $inc: $dir may not use $to"
					continue
				fi
				[ "$dir" = vdisk-server ] && [ "$to" = vdisk-server ] || continue
				read -r mine mname <<<"$(layer "$f")"
				read -r theirs tname <<<"$(layer "$inc")"
				[ "$theirs" -le "$mine" ] ||
					echo "${f#"$root"/} ($mname) includes $inc ($tname): a layer above"
			done < <(sed -n 's/^#include "\([a-z-]*\/[^"]*\)".*/\1/p' "$f")
		done
	done
}

out=$(violations "$SRCDIR")
[ -z "$out" ]; ok $? "no #include breaks the dependency rule (docs/architecture.md)"
[ -z "$out" ] || sed 's/^/# /' <<<"$out"
n=$(cat "$SRCDIR"/{common,db,standby,pxe,client-admin}/*.[ch] "$SRCDIR"/vdisk-server/*.[ch] \
	"$SRCDIR"/vdisk-server/*/*.[ch] | grep -c '^#include "')
[ "$n" -gt 300 ]; ok $? "the check read the tree's includes ($n)"

# The check finds what it must: a scratch tree with one violation of each kind.
tmp=$(mktemp -d /tmp/layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{common,db,standby,pxe,client-admin} "$tmp"/vdisk-server/{store,mirror,scsi,iscsi}
echo '#include "vdisk-server/iscsi/iscsi_proto.h"' >"$tmp/client-admin/cmd_x.c"
echo '#include "standby/daemon.h"' >"$tmp/common/log.c"
echo '#include "vdisk-server/iscsi/iscsi_conn.h"' >"$tmp/vdisk-server/scsi/scsi_x.c"
echo '#include "vdisk-server/scsi/scsi.h"' >"$tmp/vdisk-server/store/store_x.c"
echo '#include "vdisk-server/mirror/store_mirror.h"' >"$tmp/vdisk-server/store/store_raw.c"
echo '#include "vdisk-server/db_targets.h"' >"$tmp/vdisk-server/iscsi/iscsi_x.c"
echo '#include "vdisk-server/store/store.h"' >"$tmp/vdisk-server/iscsi/iscsi_ok.c"
echo '#include "vdisk-server/iscsi/iscsi_target.h"' >"$tmp/vdisk-server/vdiskd_ok.c"
echo '#include "db/db.h"' >"$tmp/pxe/ok.c"
out=$(violations "$tmp")
grep -q "client-admin/cmd_x.c includes vdisk-server/iscsi/iscsi_proto.h" <<<"$out"
ok $? "found: a program including another program's header"
grep -q "common/log.c includes standby/daemon.h" <<<"$out"; ok $? "found: common/ including a program's header"
grep -q "scsi/scsi_x.c (scsi) includes vdisk-server/iscsi/iscsi_conn.h (transport)" <<<"$out"
ok $? "found: the SCSI layer including the transport's header"
grep -q "store/store_x.c (store) includes vdisk-server/scsi/scsi.h (scsi)" <<<"$out"
ok $? "found: the store including SCSI"
grep -q "store/store_raw.c (store) includes vdisk-server/mirror/store_mirror.h (mirror)" <<<"$out"
ok $? "found: a plain store including the mirror"
grep -q "iscsi/iscsi_x.c (transport) includes vdisk-server/db_targets.h (assembly)" <<<"$out"
ok $? "found: the transport including the assembly"
is "$(wc -l <<<"$out")" 6 "nothing else found (a layer may use the layers below it)"
done_testing
