# Shared by qemu-lab's build scripts: source it.
set -euo pipefail

die() { echo "qemu-lab: $*" >&2; exit 1; }

# Multiarch library directories of the unpacked Debian tree.
tree_libpath() { echo "$1/lib/x86_64-linux-gnu:$1/usr/lib/x86_64-linux-gnu"; }

# copy_with_libs TREE DEST PATH...: copies each TREE/PATH to DEST/PATH with the shared
# libraries it needs, found by ldd against TREE only. A library that resolves outside TREE
# would make the guest depend on the build host: that is an error naming the library.
copy_with_libs() {
	local tree=$1 dest=$2 p lib
	shift 2
	for p in "$@"; do
		[ -f "$tree/$p" ] || die "$p is not in $tree"
		mkdir -p "$dest/$(dirname "$p")"
		cp -L "$tree/$p" "$dest/$p"
		while read -r lib; do
			case $lib in
			"$tree"/*) ;;
			*) die "$p needs $lib, which is not in the cache: add its package to fetch.sh" ;;
			esac
			local rel=${lib#"$tree"}
			mkdir -p "$dest/$(dirname "$rel")"
			cp -L "$lib" "$dest/$rel"
		done < <(LD_LIBRARY_PATH=$(tree_libpath "$tree") ldd "$tree/$p" |
			 awk '$2 == "=>" { print $3 } $2 == "not" { print $1 " (not found)" }')
	done
	# The program interpreter; the libc6 package's /lib64 link is absolute, so copy its target.
	mkdir -p "$dest/lib64"
	cp -L "$tree/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$dest/lib64/ld-linux-x86-64.so.2"
}

# install_busybox TREE DEST: TREE's busybox-static with a link per applet in DEST/bin.
install_busybox() {
	local tree=$1 dest=$2 a
	mkdir -p "$dest/bin" "$dest/sbin"
	cp "$tree/bin/busybox" "$dest/bin/busybox"
	for a in $("$tree/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dest/bin/$a"
	done
}
