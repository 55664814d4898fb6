#!/bin/bash
# standbyd --check-config and the command line: the seed text's ha.cf with its companions
# passes; a bad line, a readable authkeys, a crc or short key, a missing resource script fail
# naming the problem (the keys pass with insecure_auth yes, loudly); usage errors exit 2. No
# root needed.
source "$(dirname "$0")/../lib/tap.sh"
D=$(mktemp -d /tmp/sb-cc.XXXXXX)
trap 'rm -rf "$D"' EXIT
SBD=$BUILD/standbyd

cat > "$D/ha.cf" <<'CF'
logfile /var/log/ha_log/ha-log.log ## ha的日志文件记录位置
bcast eth1 ##使用eth1做心跳监测
keepalive 2 ##设定心跳(监测)时间时间为2秒
warntime 10
deadtime 30
initdead 120
hopfudge 1
udpport 694 ##使用udp端口694 进行心跳监测
auto_failback on
node server201 ##节点1
node server202 ##节点2
ping 192.168.10.1 ##通过ping 网关来监测心跳是否正常。
respawn hacluster /usr/lib64/heartbeat/ipfail
apiauth ipfail gid=root uid=root
debugfile /Datas/logs/ha_log/ha-debug.log
CF
KEY=3f9a1c0e7b2d4a6f8e1c3b5d7a9f0e2c	# 32 bytes, the shortest allowed
printf 'auth 1\n1 sha256 %s\n' "$KEY" > "$D/authkeys"
chmod 600 "$D/authkeys"
mkdir -p "$D/resource.d"
for s in ipvsadm httpd; do printf '#!/bin/sh\nexit 0\n' > "$D/resource.d/$s"; chmod 755 "$D/resource.d/$s"; done
echo "server201 IPaddr::192.168.10.200/24/eth0 ipvsadm httpd" > "$D/haresources"

out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 0 "the seed text's configuration passes"
ok "$(echo "$out" | grep -q "configuration ok: node server201, peer server202"; echo $?)" "summary printed"
ok "$(echo "$out" | grep -q "directive 'respawn' is not implemented by standbyd; ignored"; echo $?)" \
	"respawn warned about"
ok "$(echo "$out" | grep -q "directive 'apiauth'"; echo $?)" "apiauth warned about"

# Weak keys: refused naming the line and the knob; forced with insecure_auth, warned about.
printf 'auth 1\n1 crc\n' > "$D/authkeys"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "crc refused: exit 1"
ok "$(echo "$out" | grep "authkeys:2: key 1 is crc, which authenticates nothing" |
	grep -q "insecure_auth yes"; echo $?)" "the crc line and the knob named"
printf 'auth 1\n1 sha256 short-key\n' > "$D/authkeys"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "a 9-byte key refused: exit 1"
ok "$(echo "$out" | grep -q "authkeys:2: key 1 is 9 bytes"; echo $?)" "the short key's line named"
echo "insecure_auth yes" >> "$D/ha.cf"
for k in 'crc' 'sha256 short-key'; do
	printf 'auth 1\n1 %s\n' "$k" > "$D/authkeys"
	out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
	is "$rc" 0 "'1 $k' accepted with insecure_auth yes"
	ok "$(echo "$out" | grep -q "ha.cf:16: insecure_auth yes: .*authkeys:2: key 1 is"; echo $?)" \
		"'1 $k': warned about, naming both lines"
	ok "$(echo "$out" | grep -q "configuration ok: .*INSECURE"; echo $?)" \
		"'1 $k': the summary says INSECURE"
done
sed -i '/^insecure_auth/d' "$D/ha.cf"
printf 'auth 1\n1 sha256 %s\n' "$KEY" > "$D/authkeys"
ok "$("$SBD" -c "$D" --node server201 --check-config 2>&1 |
	grep -q "no 'ship N' key: DB shipping and connection lists off"; echo $?)" \
	"without a ship line the summary says DB shipping is off"
printf 'auth 1\n1 sha256 %s\nship 2\n2 sha256 %s\n' "$KEY" "$KEY" > "$D/authkeys"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "a ship key with the heartbeat key's secret: exit 1"
ok "$(echo "$out" | grep -q "authkeys:3: ship 2: key 2 has the same secret as heartbeat key 1"; echo $?)" \
	"the ship line named"
printf 'auth 1\n1 sha256 %s\nship 2\n2 sha256 %s\n' "$KEY" "${KEY}x" > "$D/authkeys"
ok "$("$SBD" -c "$D" --node server201 --check-config 2>&1 | grep -q "DB shipping key of its own"; echo $?)" \
	"with its own ship key: said in the summary"

out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
ok "$([ $rc = 0 ] && ! echo "$out" | grep -q "warning: .*bcast"; echo $?)" \
	"bcast on eth1, the address on eth0: ok, no bcast warning"
sed -i 's|/eth0 |/eth1 |' "$D/haresources"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 0 "the service address on eth1, bcast there too: still ok"
ok "$(echo "$out" | grep -q "ha.cf line 2: bcast eth1 broadcasts heartbeats to every PC"; echo $?)" \
	"but warned about: heartbeats broadcast on the clients' LAN"
sed -i 's|/eth1 |/eth0 |' "$D/haresources"

rm "$D/resource.d/httpd"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "missing resource script: exit 1"
ok "$(echo "$out" | grep -q "resource httpd: no script"; echo $?)" "the script is named"
printf '#!/bin/sh\nexit 0\n' > "$D/resource.d/httpd"; chmod 755 "$D/resource.d/httpd"

chmod 644 "$D/authkeys"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "readable authkeys: exit 1"
ok "$(echo "$out" | grep -q "mode 644 lets group or others read the keys"; echo $?)" "mode named"
chmod 600 "$D/authkeys"

sed -i 's/^deadtime 30/deadtime 5/' "$D/ha.cf"
out=$("$SBD" -c "$D" --node server201 --check-config 2>&1); rc=$?
is "$rc" 1 "deadtime under warntime: exit 1"
ok "$(echo "$out" | grep -q "ha.cf:4: warntime must not be above deadtime"; echo $?)" "the warntime line is named"

"$SBD" --bogus >/dev/null 2>&1
is "$?" 2 "unknown option: exit 2"
"$SBD" extra >/dev/null 2>&1
is "$?" 2 "stray argument: exit 2"
"$SBD" --help | grep -q "check-config"
ok $? "--help describes --check-config"
done_testing
