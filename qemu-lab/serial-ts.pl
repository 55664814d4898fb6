#!/usr/bin/perl
# serial-ts.pl LOG START: reads a QEMU client's serial console on stdin, appends it unchanged
# to LOG, and writes each line to LOG.ts prefixed with the host's seconds since START (epoch
# seconds, fractional: when QEMU was started). The firmware and the boot loader print no
# clock of their own, and a file polled by the lab would date a line only to its polling
# interval: this dates every line of a boot to within a read, so the lab can say where the
# time of a boot went (lab_boot_phases in lab.sh). A line is dated when its end arrives.
use strict;
use warnings;
use Time::HiRes qw(time);

@ARGV == 2 or die "usage: serial-ts.pl LOG START\n";
my ($log, $start) = @ARGV;
open(my $raw, '>>', $log) or die "serial-ts: $log: $!\n";
open(my $ts, '>>', "$log.ts") or die "serial-ts: $log.ts: $!\n";
$raw->autoflush(1);
$ts->autoflush(1);

my $line = '';
while (1) {
	my $n = sysread(STDIN, my $buf, 4096);
	last unless $n;	# QEMU exited (EOF) or the read failed
	my $now = time;
	print $raw $buf;
	$line .= $buf;
	while ($line =~ s/^([^\n]*)\n//) {
		my $text = $1;
		# Terminal controls (SeaBIOS and iPXE colours, resets, iPXE's prompt countdown).
		$text =~ s/\e\[[0-9;?]*[A-Za-z]|\ec|[\r\x08]//g;
		$text =~ s/\s+/ /g;
		next if $text !~ /\S/;
		printf $ts "%.2f %s\n", $now - $start, $text;
	}
	# A line the console never ends (a prompt being redrawn) must not grow without bound.
	$line = substr($line, -4096) if length($line) > 65536;
}
