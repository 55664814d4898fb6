# lab.sh: the pieces every lab script and test repeats, for bash scripts to source:
# namespaces and links they remove again, daemons in the background that cleanup can stop,
# the stand-in for pxed, and QEMU clients with their serial logs. Needs SRCDIR and BUILD.
#
#   lab_init PREFIX     temp dir $LAB_TMP, cleanup on exit, INT and TERM
#   lab_netns NAME      a namespace with lo up, deleted at cleanup
#   lab_bg NS CMD...    CMD in NS in the background; $last_pid is CMD itself
#   ...                 see each function
# Names of namespaces, links and taps must start with ql- or lab- (the lab's prefixes).

source "$SRCDIR/tests/lib/netns.sh"

LAB_PIDS=()
LAB_NETNS=()

# lab_child PID: PID is still a child of this script (running, or exited and not yet reaped,
# so its number cannot be anyone else's). Only those are signalled: PIDs wrap fast on a busy
# machine (pid_max 32768 here), and a recorded PID whose process is gone may be another
# user's process by now.
lab_child() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }	# past "PID (COMMAND) ", the command may hold spaces
	set -- $stat
	[ "$2" = "$$" ]
}

# lab_alive PID: PID is our child and still running (not a zombie).
lab_alive() {
	local stat
	lab_child "$1" || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# lab_reap PID SECS: waits up to SECS for PID, our child, to end, then kills it with -9;
# reaps it, with its exit status as this function's. A poll, not a timer subshell killed
# once PID has ended: a signal that reaches a subshell before it has reset the traps it
# inherited runs this script's EXIT trap in it (lab_cleanup: every daemon of the lab got
# SIGTERM and the temp dir went, in the middle of a run on a loaded machine).
lab_reap() {
	local end=$(( $(date +%s%3N) + $2 * 1000 ))
	while lab_alive "$1" && [ "$(date +%s%3N)" -lt "$end" ]; do sleep 0.05; done
	lab_alive "$1" && kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Stops PIDs that are still our children: TERM, then KILL after 2 s for what ignores it
# (tgtd with targets does).
lab_stop_pids() {
	local p live=()
	for p in "$@"; do lab_child "$p" && live+=("$p"); done
	for p in "${live[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${live[@]}"; do lab_reap "$p" 2; done
}

lab_cleanup() {
	local ns pid
	lab_stop_pids "${LAB_PIDS[@]}"
	# What the daemons started themselves (standbyd's pxed, pxed's in.tftpd) is still in
	# the namespaces.
	for ns in "${LAB_NETNS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${QL_KEEP:-}" ]; then echo "# kept $LAB_TMP"; else rm -rf "$LAB_TMP"; fi
}

lab_init() {
	LAB_TMP=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
}

lab_netns() {
	ip netns add "$1" || return 1
	LAB_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# Not in a subshell: ip execs CMD, so the PID recorded is the daemon's own.
lab_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	last_pid=$!
	LAB_PIDS+=("$last_pid")
}

# lab_bridge NS BRIDGE: the client LAN.
lab_bridge() {
	ip -n "$1" link add "$2" type bridge && ip -n "$1" link set "$2" up
}

# lab_tap NS BRIDGE TAP: a port for one QEMU client.
lab_tap() {
	ip -n "$1" tuntap add dev "$3" mode tap && ip -n "$1" link set "$3" master "$2" up
}

# lab_attach NS BRIDGE PORT PEER_NS PEER_IF ADDR/LEN: a veth from the bridge to a server.
lab_attach() {
	ip -n "$1" link add "$3" type veth peer name "$5" netns "$4" &&
	ip -n "$1" link set "$3" master "$2" up &&
	ip -n "$4" addr add "$6" dev "$5" &&
	ip -n "$4" link set "$5" up
}

# lab_tcp_up NS ADDR PORT: waits up to 5 s for a listener.
lab_tcp_up() {
	local i
	for i in $(seq 50); do
		ip netns exec "$1" bash -c "echo >/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# lab_pxe_standin NS IF ADDR SCRIPT: what pxed will do, from stock parts: busybox udhcpd
# hands out 10.77.0.100-150 with next-server ADDR and file boot.ipxe, in.tftpd serves
# SCRIPT (the iPXE script's text) as boot.ipxe, ra.pl answers router solicitations.
lab_pxe_standin() {
	local ns=$1 ifname=$2 addr=$3 dir=$LAB_TMP/pxe
	mkdir -p "$dir/tftp"
	printf '%s\n' "$4" >"$dir/tftp/boot.ipxe"
	cat >"$dir/udhcpd.conf" <<EOT
start ${addr%.*}.100
end ${addr%.*}.150
interface $ifname
max_leases 64
lease_file $dir/udhcpd.leases
siaddr $addr
boot_file boot.ipxe
option subnet 255.255.255.0
option lease 600
EOT
	touch "$dir/udhcpd.leases"
	lab_bg "$ns" "$BUILD/qemu-lab/busybox" udhcpd -f "$dir/udhcpd.conf" >"$dir/udhcpd.log" 2>&1
	lab_bg "$ns" in.tftpd -L -a "$addr:69" -s "$dir/tftp" >"$dir/tftpd.log" 2>&1
	# Without router advertisements iPXE spends ~13 s of every boot waiting for IPv6.
	lab_bg "$ns" "$SRCDIR/qemu-lab/ra.pl" "$ifname" >"$dir/ra.log" 2>&1
}

# lab_image_copy DEST KERNEL-PARAMETERS: a client's own copy of the lab image.
lab_image_copy() {
	cp --sparse=always "$BUILD/qemu-lab/disk.img" "$1" &&
	"$SRCDIR/qemu-lab/set-cmdline.sh" "$1" "console=ttyS0,115200 loglevel=4 cryptomgr.notests=1 panic=1 $2"
}

# lab_client NS TAP MAC LOG: a diskless PC: TCG, an e1000 with Debian's iPXE ROM, network
# boot only, serial console to LOG (-nographic, so SeaBIOS and iPXE reach it too), and each
# line of it dated in LOG.ts (serial-ts.pl: seconds since $last_start, when QEMU started).
# It exits when the guest powers off, reboots or panics. $last_pid is QEMU.
lab_client() {
	last_start=$(date +%s.%N)
	lab_bg "$1" qemu-system-x86_64 -machine pc,accel=tcg -m 512 -smp 1 -nographic \
		-monitor none -serial stdio -no-reboot -boot n \
		-netdev "tap,id=n0,ifname=$2,script=no,downscript=no" \
		-device "e1000,netdev=n0,mac=$3,autonegotiation=off" </dev/null 2>"$4.qemu" \
		> >(exec "$SRCDIR/qemu-lab/serial-ts.pl" "$4" "$last_start")
}

# The phases of a boot, each ending at the first serial line that matches (name:text):
# SeaBIOS and the option ROM until iPXE runs; DHCP (with iPXE's wait for IPv6 and for
# ProxyDHCP offers); the iPXE script fetched by TFTP and running; sanboot's iSCSI login;
# SYSLINUX from the disk; then SYSLINUX loading kernel and initramfs through INT 13 and the
# kernel decompressing itself ("kernel": when the guest's clock started, its uptime taken
# back from the initramfs' first line); the kernel until /init; module loading; the link;
# iscsistart's login; the root mounted and switch_root; the root's init until the workload.
LAB_BOOT_PHASES=("ipxe:iPXE initialising devices" "dhcp:Configuring (net0" "script:[script]"
	"sanboot:Booting from SAN device" "syslinux:SYSLINUX " "loaded:Loading initrd"
	"kernel:"
	"initramfs:ql-initramfs: start" "modules:ql-initramfs: modules loaded"
	"link:ql-initramfs: link " "iscsi:ql-initramfs: iscsistart done"
	"root:ql-initramfs: root " "workload:ql-workload: start")

# lab_boot_phases TSLOG: "name T (+D) ..." for the phases TSLOG shows: T the seconds after QEMU
# started at which it ended, D its own length.
lab_boot_phases() {
	local ph
	for ph in "${LAB_BOOT_PHASES[@]}"; do echo "$ph"; done | awk -v ts="$1" '
	BEGIN { FS = ":" }
	{ name[NR] = $1; pat[NR] = substr($0, length($1) + 2); n = NR }
	END {
		while ((getline l < ts) > 0) {
			t = substr(l, 1, index(l, " ") - 1); text = substr(l, index(l, " ") + 1)
			for (i = 1; i <= n; i++)
				if (pat[i] != "" && !(i in at) && index(text, pat[i])) at[i] = t
			if (!("k" in at) && text ~ /ql-initramfs: start uptime=/) {
				u = text; sub(/.*uptime=/, "", u); at["k"] = t - u
			}
		}
		prev = 0; out = ""
		for (i = 1; i <= n; i++) {
			if (name[i] == "kernel" && ("k" in at)) at[i] = at["k"]
			if (!(i in at)) continue
			out = out sprintf("%s %.1f (+%.1f) ", name[i], at[i], at[i] - prev)
			prev = at[i]
		}
		print (out == "" ? "none" : out)
	}'
}

# lab_since START: seconds since START (date +%s.%N), one decimal.
lab_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
