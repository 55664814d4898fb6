# netns.sh: what every namespace-based test (tests/ha, tests/mirror, the QEMU lab) does to a
# server that lives in a network namespace with links lan0 and ha0. Source it from bash.

# netns_power_cut NS: the server's power cut: every process of the namespace frozen
# (SIGSTOP), its links down, then every process killed with -9 and reaped. A power cut stops
# everything at once: frozen first, no daemon sees its links go (vdiskd would degrade its
# mirrors on the HA link's lost carrier and record writes apart that no client ever got
# acknowledged; found by the model test). Links before the kill: killed first, its kernel
# would close the clients' TCP connections (FIN, then RST to the reconnect), which no dead
# server does (open-iscsi then waited 3 s: a 3018 ms stall instead of about 1 s, found by
# the QEMU lab). NETNS_CUT_AT is the cut's moment (the LAN link's), taken without a fork: on
# a loaded machine starting ip took up to 170 ms.
netns_power_cut() {
	local pid pids
	pids=$(ip netns pids "$1")
	for pid in $pids; do kill -STOP "$pid" 2>/dev/null; done
	ip -n "$1" link set lan0 down
	NETNS_CUT_AT=${EPOCHREALTIME/,/.}	# a decimal comma in some locales
	ip -n "$1" link set ha0 down
	# and whatever was started since the list was taken
	pids="$pids $(ip netns pids "$1")"
	for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
	# Reaped here, quietly: bash would report each of its children as "Killed".
	for pid in $pids; do wait "$pid" 2>/dev/null; done
}

# netns_power_on NS ADDR/PREFIX: links up again, without the service address the cut left
# behind (as a reboot would).
netns_power_on() {
	ip -n "$1" addr del "$2" dev lan0 2>/dev/null
	ip -n "$1" link set lan0 up
	ip -n "$1" link set ha0 up
}
