# Shared by the scripts that run vdiskd on loopback: source it after tap.sh.

# vd_listens PID PORT: process PID listens on TCP PORT
vd_listens() { ss -Hltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"; }
# vd_up_or_gone PID PORT: PID listens on PORT, or has exited (another process had the port)
vd_up_or_gone() { vd_listens "$1" "$2" || ! kill -0 "$1" 2>/dev/null; }

# Starts vdiskd with these arguments on the first port of PORT, PORT+10, ... PORT+40 it can
# bind (other checkouts may run this test at the same time); sets PORT and pid. Returns once
# vdiskd listens there.
start_vdiskd() {
	local base=$PORT
	for PORT in $base $((base + 10)) $((base + 20)) $((base + 30)) $((base + 40)); do
		"$BUILD/vdiskd" --listen 127.0.0.1:$PORT "$@" &
		pid=$!
		wait_until 10000 vd_up_or_gone $pid $PORT
		vd_listens $pid $PORT && return 0
		kill $pid 2>/dev/null
		wait $pid
	done
	pid=
	return 1
}
