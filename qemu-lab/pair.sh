# pair.sh: the lab's server pair, run as an admin runs it, for bash scripts to source after
# lab.sh (lab_init first). Needs SRCDIR, BUILD and LAB_TMP.
#
#   lab-ID-sw   the client LAN: bridge br0, a tap per QEMU client (lab-t1, ...), the servers'
#               veths (lab-pa, lab-pb); QEMU runs here
#   lab-ID-a    server srv-a: lan0 10.81.0.1, ha0 10.82.0.1 (a veth straight to b)
#   lab-ID-b    server srv-b: lan0 10.81.0.2, ha0 10.82.0.2
# Service address 10.81.0.10/24 (iSCSI 3260, TFTP); vdiskd's replica listener on the HA
# address, port 3261. Everything lives under $LAB_TMP/{a,b}; lab_cleanup removes the
# namespaces, which takes the taps and veths with them.

LAB_ID=${LAB_ID:-$(($$ % 100000))}
NS_SW=lab-$LAB_ID-sw NS_A=lab-$LAB_ID-a NS_B=lab-$LAB_ID-b
LAB_VIP=10.81.0.10
LAB_KEEPALIVE=${LAB_KEEPALIVE:-100ms}
LAB_DEADTIME=${LAB_DEADTIME:-500ms}
LAB_MIRROR_TIMEOUT_MS=${LAB_MIRROR_TIMEOUT_MS:-1000}

# PIDs of each server's vdiskd and standbyd, and the servers that have power.
declare -A LAB_VDISKD_PID=() LAB_STANDBYD_PID=() LAB_POWERED=()

lab_ns_of() { case $1 in a) echo "$NS_A" ;; b) echo "$NS_B" ;; esac; }
lab_lan_ip() { case $1 in a) echo 10.81.0.1 ;; b) echo 10.81.0.2 ;; esac; }
lab_ha_ip() { case $1 in a) echo 10.82.0.1 ;; b) echo 10.82.0.2 ;; esac; }
lab_peer() { case $1 in a) echo b ;; b) echo a ;; esac; }

# lab_pair_topology NCLIENTS: namespaces, the LAN bridge with NCLIENTS taps, the HA link.
lab_pair_topology() {
	local n i
	for n in "$NS_SW" "$NS_A" "$NS_B"; do lab_netns "$n" || return 1; done
	lab_bridge "$NS_SW" br0 || return 1
	for i in $(seq "$1"); do lab_tap "$NS_SW" br0 "lab-t$i" || return 1; done
	for n in a b; do
		lab_attach "$NS_SW" br0 "lab-p$n" "$(lab_ns_of $n)" lan0 "$(lab_lan_ip $n)/24" ||
			return 1
	done
	ip -n "$NS_A" link add ha0 type veth peer name ha0 netns "$NS_B" || return 1
	for n in a b; do
		ip -n "$(lab_ns_of $n)" addr add "$(lab_ha_ip $n)/24" dev ha0 &&
		ip -n "$(lab_ns_of $n)" link set ha0 up || return 1
	done
}

# lab_client_mac I / lab_client_name I: client I's identity in the DB.
lab_client_mac() { printf '52:54:00:81:00:%02x' "$1"; }
lab_client_name() { printf 'PC%02d' "$1"; }

# lab_pair_db BASE NCLIENTS NOHS: the admin's database, made with vdiskctl: both servers,
# the base image, NCLIENTS clients assigned to srv-a in restore mode, hot-standby on for all
# but client NOHS (0: none). Each server starts from a copy, as after an install; standbyd
# ships the active's changes from then on.
lab_pair_db() {
	local base=$1 n=$2 nohs=$3 db=$LAB_TMP/admin.db i hs
	V() { "$BUILD/vdiskctl" --db "$db" "$@" >>"$LAB_TMP/vdiskctl.log" 2>&1; }
	V init &&
	V server add srv-a --role primary --service-addr "$LAB_VIP" --ha-addr "$(lab_ha_ip a)" &&
	V server add srv-b --role secondary --service-addr "$LAB_VIP" --ha-addr "$(lab_ha_ip b)" &&
	V image add lab --path "$base" || return 1
	for i in $(seq "$n"); do
		hs=on
		[ "$i" = "$nohs" ] && hs=off
		V client add --name "$(lab_client_name "$i")" --mac "$(lab_client_mac "$i")" \
			--ip "10.81.0.$((100 + i))" --image lab --server srv-a --hot-standby "$hs" \
			--overlay restore || return 1
	done
	for i in a b; do
		mkdir -p "$LAB_TMP/$i/ha.d" "$LAB_TMP/$i/run" "$LAB_TMP/$i/tftp" \
			"$LAB_TMP/$i/state" "$LAB_TMP/$i/overlays" || return 1
		cp "$db" "$LAB_TMP/$i/vdisk.db" || return 1
	done
}

# lab_pair_config NODE: ha.cf, authkeys, haresources and pxed.conf of srv-NODE. haresources
# starts vdiskd's primary role before the address (open-iscsi waits 3 s after a refused
# reconnect), then pxed.
lab_pair_config() {
	local n=$1 d=$LAB_TMP/$1
	cat >"$d/ha.d/ha.cf" <<-CF
	cluster lab
	keepalive $LAB_KEEPALIVE
	deadtime $LAB_DEADTIME
	initdead 2s
	udpport 694
	ucast ha0 $(lab_ha_ip a)
	ucast ha0 $(lab_ha_ip b)
	ucast lan0 $(lab_lan_ip a)
	ucast lan0 $(lab_lan_ip b)
	node srv-a
	node srv-b
	auto_failback on
	monitor_interval 1s
	CF
	printf 'auth 1\n1 sha256 lab-pair-heartbeat-key-0123456789abcdef\nship 2\n2 sha256 %s\n' \
		lab-pair-dbship-key-0123456789abcdef >"$d/ha.d/authkeys"
	chmod 600 "$d/ha.d/authkeys"
	echo "srv-a vdiskd::$d/run/vdiskd.sock IPaddr::$LAB_VIP/24/lan0" \
		"pxed::$BUILD/pxed::--db::$d/vdisk.db::-c::$d/pxed.conf" >"$d/ha.d/haresources"
	cat >"$d/pxed.conf" <<-CONF
	interface = lan0
	mode = dhcp
	pool = 10.81.0.200-10.81.0.250
	service_address = $LAB_VIP
	tftp_root = $d/tftp
	state_dir = $d/state
	ctl_socket = $d/run/pxed.sock
	standbyd_ctl = $d/run/standbyd.sock
	vdiskd_ctl = $d/run/vdiskd.sock
	node = srv-$n
	router_advert = on
	CONF
	# The pair's mirror secret: the same content on both servers, readable by root only.
	printf 'lab-pair-mirror-secret\n' >"$d/mirror.secret"
	chmod 600 "$d/mirror.secret"
}

# lab_vdiskd_start NODE: vdiskd of srv-NODE in the secondary role: standbyd promotes it.
lab_vdiskd_start() {
	local n=$1 d=$LAB_TMP/$1 peer
	peer=$(lab_peer "$n")
	local args=(--db "$d/vdisk.db" --listen 0.0.0.0:3260 --overlay-dir "$d/overlays"
		--ctl "$d/run/vdiskd.sock" --verbose --role secondary --node "srv-$n"
		--replica-listen "$(lab_ha_ip "$n"):3261" --mirror-peer "$(lab_ha_ip "$peer"):3261"
		--mirror-secret "$d/mirror.secret" --mirror-timeout-ms "$LAB_MIRROR_TIMEOUT_MS"
		--fence "$d/run/standbyd.sock")
	lab_bg "$(lab_ns_of "$n")" "$BUILD/vdiskd" "${args[@]}" >>"$d/vdiskd.log" 2>&1
	LAB_VDISKD_PID[$n]=$last_pid
	lab_ctl_up "$d/run/vdiskd.sock"
}

# lab_standbyd_start NODE: verbose, for the connection lists shipped and received and each
# connection tickled (timeline.sh).
lab_standbyd_start() {
	local n=$1 d=$LAB_TMP/$1
	lab_bg "$(lab_ns_of "$n")" "$BUILD/standbyd" -c "$d/ha.d" --node "srv-$n" \
		--ctl "$d/run/standbyd.sock" --db "$d/vdisk.db" --state-dir "$d" -v \
		>>"$d/standbyd.log" 2>&1
	LAB_STANDBYD_PID[$n]=$last_pid
}

# lab_server_up NODE: the server boots: vdiskd, then standbyd (which runs the rest).
lab_server_up() {
	LAB_POWERED[$1]=1
	lab_vdiskd_start "$1" && lab_standbyd_start "$1"
}

# lab_daemons_dead: names the vdiskd or standbyd of a powered server that is gone (a crash,
# or a signal from outside the lab); status 1 when there is none.
lab_daemons_dead() {
	local n rc=1
	for n in "${!LAB_POWERED[@]}"; do
		lab_alive "${LAB_VDISKD_PID[$n]}" || { echo "srv-$n's vdiskd"; rc=0; }
		lab_alive "${LAB_STANDBYD_PID[$n]}" || { echo "srv-$n's standbyd"; rc=0; }
	done
	return $rc
}

# lab_server_stop NODE: srv-NODE shut down as an admin would: SIGTERM to standbyd (it stops
# the resources it runs), then to vdiskd. LAB_STOPPED gets each one's exit status
# ("standbyd=0 vdiskd=0"; 137 when it needed SIGKILL after 10 s); status 0 when both
# exited 0. Not in a command substitution: only this shell can wait for its children.
lab_server_stop() {
	local n=$1 name pid st out="" rc=0
	unset "LAB_POWERED[$n]"
	for name in standbyd vdiskd; do
		if [ $name = standbyd ]; then pid=${LAB_STANDBYD_PID[$n]}; else pid=${LAB_VDISKD_PID[$n]}; fi
		lab_child "$pid" || { out+="$name=gone "; rc=1; continue; }
		kill -TERM "$pid" 2>/dev/null
		lab_reap "$pid" 10
		st=$?
		out+="$name=$st "
		[ "$st" = 0 ] || rc=1
	done
	LAB_STOPPED=${out% }
	return $rc
}

# lab_ctl SOCKET REQUEST...: one request on a daemon's control socket; prints the answer
# (one JSON object on one line).
lab_ctl() {
	local sock=$1
	shift
	echo "$*" | timeout 3 socat -t 3 - "UNIX-CONNECT:$sock" 2>/dev/null
}

lab_ctl_up() {
	local i
	for i in $(seq 50); do
		lab_ctl "$1" status | jq -e .ok >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# lab_field NODE DAEMON KEY: the member KEY of DAEMON's status on srv-NODE ("" when none).
lab_field() {
	lab_ctl "$LAB_TMP/$1/run/$2.sock" status 2>/dev/null | jq -r --arg k "$3" '.[$k] // empty' 2>/dev/null
}

lab_sb_state() { lab_field "$1" standbyd state; }

# lab_wait_sb NODE STATE SECONDS: 0 once srv-NODE's standbyd reports STATE.
lab_wait_sb() {
	local end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt "$end" ]; do
		[ "$(lab_sb_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# lab_power_cut NODE: srv-NODE's power cut (tests/lib/netns.sh); LAB_CUT_AT its moment
lab_power_cut() {
	unset "LAB_POWERED[$1]"
	netns_power_cut "$(lab_ns_of "$1")"
	LAB_CUT_AT=$NETNS_CUT_AT
}

# lab_power_on NODE: links up again, then the server boots.
lab_power_on() {
	rm -f "$LAB_TMP/$1"/run/*.sock
	netns_power_on "$(lab_ns_of "$1")" "$LAB_VIP/24"
	lab_server_up "$1"
}
