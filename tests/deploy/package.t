#!/usr/bin/env bash
# The Debian packages: `make deb` builds them with Debian's tools (dpkg-buildpackage,
# debhelper) and lintian finds nothing at its default level; what they hold: the programs,
# units, conffiles, man pages for every program and file format, runtime dependencies only.
# The .debs stay in $BUILD/deb for tests/deploy/pair.t.
source "$(dirname "$0")/../lib/tap.sh"
for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || skip_all "$t missing (make deps installs deploy/deps.txt)"
done
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SRCDIR/debian/changelog")
DEB=$BUILD/deb
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# make install: FHS paths under PREFIX, configuration in /etc, everything under DESTDIR
make -C "$SRCDIR" --no-print-directory BUILD="$BUILD" install DESTDIR="$T/inst" \
	PREFIX=/usr/local >"$T/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr/local"
for f in usr/local/sbin/vdiskd usr/local/sbin/standbyd usr/local/sbin/pxed \
	usr/local/sbin/vdiskctl usr/local/sbin/vdisk-setup etc/vdisk/vdiskd.conf \
	etc/vdisk/pxed.conf usr/local/lib/systemd/system/vdiskd.service \
	usr/local/lib/tmpfiles.d/vdisk.conf usr/local/lib/sysusers.d/vdisk.conf \
	usr/local/share/man/man8/vdiskd.8 \
	usr/local/share/man/man5/ha.cf.5; do
	[ -e "$T/inst/$f" ] || missing="${missing:-} /$f"
done
is "${missing:-}" "" "make install: programs in PREFIX/sbin, units, tmpfiles.d, sysusers.d, man pages, /etc/vdisk"
grep -q '^ExecStart=/usr/local/sbin/vdiskd --config /etc/vdisk/vdiskd.conf$' \
	"$T/inst/usr/local/lib/systemd/system/vdiskd.service"
ok $? "the installed unit runs /usr/local/sbin/vdiskd with /etc/vdisk/vdiskd.conf"
"$T/inst/usr/local/sbin/vdiskd" --config "$T/inst/etc/vdisk/vdiskd.conf" --check-config >/dev/null
ok $? "the installed vdiskd.conf passes vdiskd --check-config"

t0=$(date +%s)
make -C "$SRCDIR" --no-print-directory BUILD="$BUILD" deb >"$T/build.log" 2>&1
ok $? "make deb builds the packages ($(( $(date +%s) - t0 )) s)"
[ $? = 0 ] || tail -20 "$T/build.log" | sed 's/^/# /'
SRV=$DEB/vdisk-server_${VERSION}_amd64.deb CTL=$DEB/vdiskctl_${VERSION}_amd64.deb
[ -f "$SRV" ] && [ -f "$CTL" ]; ok $? "vdisk-server and vdiskctl .debs in \$BUILD/deb"

t0=$(date +%s)
lintian --fail-on error,warning "$DEB/vdisk_${VERSION}_amd64.changes" >"$T/lint" 2>&1
rc=$?
grep -v 'running with root privileges' "$T/lint" >"$T/tags"
[ $rc = 0 ] && [ ! -s "$T/tags" ]
ok $? "lintian: no tag at its default level ($(( $(date +%s) - t0 )) s)"
sed 's/^/# /' "$T/tags"

dpkg-deb -c "$SRV" | awk '{print $6}' | sed 's|^\./|/|' >"$T/srv"
dpkg-deb -c "$CTL" | awk '{print $6}' | sed 's|^\./|/|' >"$T/ctl"
for f in /usr/sbin/vdiskd /usr/sbin/standbyd /usr/sbin/pxed /usr/sbin/vdisk-setup \
	/lib/systemd/system/vdiskd.service /lib/systemd/system/standbyd.service \
	/lib/systemd/system/tftpd-hpa.service.d/vdisk.conf /usr/lib/tmpfiles.d/vdisk.conf \
	/usr/lib/sysusers.d/vdisk.conf /etc/vdisk/vdiskd.conf /etc/vdisk/pxed.conf; do
	grep -qx "$f" "$T/srv"; ok $? "vdisk-server holds $f"
done
grep -qx /usr/sbin/vdiskctl "$T/ctl"; ok $? "vdiskctl holds /usr/sbin/vdiskctl"
for m in vdiskd.8 standbyd.8 pxed.8 vdisk-setup.8 vdiskd.conf.5 pxed.conf.5 ha.cf.5 \
	authkeys.5 haresources.5; do
	grep -q "/man[58]/$m.gz$" "$T/srv"; ok $? "man page $m"
done
grep -q "/man8/vdiskctl.8.gz$" "$T/ctl"; ok $? "man page vdiskctl.8"

dpkg-deb --ctrl-tarfile "$SRV" | tar -xOf - ./conffiles >"$T/conffiles"
is "$(sort "$T/conffiles" | tr '\n' ' ')" "/etc/vdisk/pxed.conf /etc/vdisk/vdiskd.conf " \
	"conffiles: vdiskd.conf and pxed.conf"
deps=$(dpkg-deb -f "$SRV" Depends)
for d in tftpd-hpa ipxe libiscsi7 libpcap0.8 libsqlite3-0 libssl3 libisal2 libsystemd0 \
	"vdiskctl (= $VERSION)"; do
	grep -qF "$d" <<<"$deps"; ok $? "vdisk-server depends on $d"
done
for t in qemu socat busybox udhcpc tftp-hpa iproute2 keepalived tgt open-iscsi libiscsi-bin \
	iperf3 clang; do
	grep -qE "(^|[ ,])$t([ ,(]|$)" <<<"$deps$(dpkg-deb -f "$CTL" Depends)"
	is $? 1 "no test tool in the dependencies: $t"
done
dpkg-deb --ctrl-tarfile "$SRV" | tar -xOf - ./postinst >"$T/postinst"
grep -q 'vdiskctl --db "$DB" backup' "$T/postinst" && grep -q 'vdiskctl --db "$DB" init' "$T/postinst"
ok $? "postinst copies the database, then upgrades its schema"
dpkg-deb --fsys-tarfile "$SRV" | tar -xOf - ./lib/systemd/system/vdiskd.service >"$T/unit"
grep -q '^Type=notify' "$T/unit" && grep -q '^ExecStartPre=/usr/sbin/vdiskd .*--check-config' "$T/unit"
ok $? "vdiskd.service: Type=notify, configuration checked before start"
if command -v systemd-analyze >/dev/null; then
	# the programs are not installed here: only what verify says about the units themselves
	mkdir -p "$T/root"
	dpkg-deb -x "$SRV" "$T/root"
	out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
		"$T/root/lib/systemd/system/vdiskd.service" \
		"$T/root/lib/systemd/system/standbyd.service" 2>&1 | grep -v ' is not executable: ')
	is "$out" "" "systemd-analyze verify finds nothing wrong in the units"
else
	skip "systemd-analyze verify" "no systemd-analyze"
fi
done_testing
