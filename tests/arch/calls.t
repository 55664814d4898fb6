#!/bin/bash
# No two files call each other (docs/architecture.md): for every pair of the product's object
# files, A using a symbol B defines (a call, a function's address, a table) while B uses one
# A defines is a circle, and fails. Lower files report up through function pointers set by
# the file above, never by name. Read from the built objects (nm), so it sees what the
# compiler linked, not what a text search guesses. Then the check itself is checked on two
# scratch objects that call each other.
source "$(dirname "$0")/../lib/tap.sh"
command -v nm >/dev/null || skip_all "nm (binutils) not installed"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# circles OBJ...: one line "a.o <-> b.o: SYMBOL (and SYMBOL)" per pair calling each other
circles() {
	local o
	for o in "$@"; do
		echo "= $o"
		nm -g --defined-only "$o" | awk 'NF == 3 { print "D " $3 }'
		nm -u "$o" | awk '{ print "U " $2 }'
	done | perl -e '
		my ($cur, %def, %use, @objs);
		while (<STDIN>) {
			chomp;
			if (/^= (.*)/) { $cur = $1; push @objs, $cur; next }
			my ($k, $s) = split / /;
			if ($k eq "D") { push @{$def{$s}}, $cur } else { $use{$cur}{$s} = 1 }
		}
		my %uses;	# $uses{a}{b} = a symbol of b that a uses
		for my $a (@objs) {
			for my $s (keys %{$use{$a}}) {
				next unless $def{$s} && @{$def{$s}} == 1;
				my $b = $def{$s}[0];
				$uses{$a}{$b} //= $s unless $b eq $a;
			}
		}
		for my $a (sort keys %uses) {
			for my $b (sort keys %{$uses{$a}}) {
				next unless $a lt $b && $uses{$b}{$a};
				print "$a <-> $b: $uses{$a}{$b} (and $uses{$b}{$a})\n";
			}
		}'
}

objs=() missing=()
while read -r src; do
	o=$BUILD/obj/${src%.c}.o
	if [ -f "$o" ]; then objs+=("$o"); else missing+=("$src"); fi
done < <(cd "$SRCDIR" && git ls-files -- 'common/*.c' 'db/*.c' 'client-admin/*.c' 'pxe/*.c' \
	'standby/*.c' 'vdisk-server/*.c' 2>/dev/null || find common db client-admin pxe standby \
	vdisk-server -name '*.c')
is "${missing[*]}" "" "every product source is built"
ok $([ ${#objs[@]} -gt 100 ]; echo $?) "${#objs[@]} object files read"
# objects nm cannot read (LTO bytecode, say) would make the check pass for nothing
nm -u "$BUILD/obj/vdisk-server/iscsi/iscsi_conn.o" 2>/dev/null | grep -qw tx_flush
ok $? "nm sees what an object uses (iscsi_conn.o: tx_flush)"
found=$(circles "${objs[@]}" | sed "s|$BUILD/obj/||g")
is "$found" "" "no two files of the product call each other"

# the check, checked: two files that call each other, and a third calling one of them
cat > "$T/a.c" <<'C'
int b(int);
int a(int x) { return x ? b(x - 1) : 0; }
C
cat > "$T/b.c" <<'C'
int a(int);
int b(int x) { return a(x); }
C
cat > "$T/c.c" <<'C'
int a(int);
int c(void) { return a(1); }
C
for f in a b c; do ${CC:-cc} -c -o "$T/$f.o" "$T/$f.c" || break; done
found=$(circles "$T/a.o" "$T/b.o" "$T/c.o" | sed "s|$T/||g")
is "$found" "a.o <-> b.o: b (and a)" "a scratch pair calling each other is found, and only it"
done_testing
