# Shared by the scripts that run vdiskd on loopback: source it after tap.sh.

# Starts vdiskd with these arguments on the first port of PORT, PORT+10, ... PORT+40 it can
# bind (other checkouts may run this test at the same time); sets PORT and pid.
start_vdiskd() {
	local base=$PORT
	for PORT in $base $((base + 10)) $((base + 20)) $((base + 30)) $((base + 40)); do
		"$BUILD/vdiskd" --listen 127.0.0.1:$PORT "$@" &
		pid=$!
		sleep 0.2
		kill -0 $pid 2>/dev/null && return 0
		wait $pid
	done
	pid=
	return 1
}
