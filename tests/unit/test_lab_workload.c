/* The lab workload's judging of blocks read back, its checksum, and its stall accounting. The
 * workload itself is a static guest binary, so its pure parts are included here directly. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qemu-lab/workload/block.c"
#include "qemu-lab/workload/report.c"
#include "tests/lib/tap.h"

#define RUN 0x1122334455667788ULL

static uint8_t blk[QL_BLOCK_SIZE], other[QL_BLOCK_SIZE];

static enum ql_verdict judge(const uint8_t *b, uint64_t lba, uint64_t want, uint64_t *got)
{
	return ql_block_check(b, RUN, lba, want, got);
}

static void test_blocks(void)
{
	uint64_t got;

	ql_block_fill(blk, RUN, 7, 42);
	is_int(judge(blk, 7, 42, &got), QL_OK, "a block reads back as written");
	is_int(got, 42, "  and reports its sequence");
	is_int(judge(blk, 7, 43, &got), QL_STALE, "an older sequence than acknowledged is stale");
	is_int(judge(blk, 7, 41, &got), QL_FUTURE, "a newer sequence than written is caught");
	is_int(judge(blk, 8, 42, &got), QL_WRONG_LBA, "a block at the wrong place is misplaced");
	is_int(ql_block_check(blk, RUN + 1, 7, 42, &got), QL_WRONG_RUN,
	       "a block of an earlier run is not taken for this one");

	memset(other, 0, sizeof(other));
	is_int(judge(other, 7, 42, &got), QL_ZERO, "a lost write reads as zeros");
	is_int(got, 0, "  with no sequence");

	memcpy(other, blk, sizeof(blk));
	other[100] ^= 1;
	is_int(judge(other, 7, 42, &got), QL_CORRUPT, "one flipped payload bit is corrupt");
	memcpy(other, blk, sizeof(blk));
	other[QL_CRC_OFF] ^= 0x80;
	is_int(judge(other, 7, 42, &got), QL_CORRUPT, "a bad CRC is corrupt");

	/* A torn write: first half of the new version, second half of the old one. */
	ql_block_fill(other, RUN, 7, 41);
	memcpy(other, blk, QL_BLOCK_SIZE / 2);
	is_int(judge(other, 7, 42, &got), QL_CORRUPT, "a torn write is corrupt");

	/* A block whose header was rewritten with a valid CRC still fails on its pattern. */
	ql_block_fill(other, RUN, 7, 41);
	other[8] = 42;
	uint32_t crc = ql_crc32(0, other, QL_CRC_OFF);
	for (int i = 0; i < 4; i++)
		other[QL_CRC_OFF + i] = (uint8_t)(crc >> (8 * i));
	is_int(judge(other, 7, 42, &got), QL_CORRUPT, "a renumbered old block fails its pattern");

	memset(other, 0xff, sizeof(other));
	is_int(judge(other, 7, 42, &got), QL_BAD_MAGIC, "foreign data is not ours");

	ql_block_fill(other, RUN, 7, 43);
	ok(memcmp(blk + QL_HDR_LEN, other + QL_HDR_LEN, QL_CRC_OFF - QL_HDR_LEN) != 0,
	   "successive writes of one block differ in payload");
	ok(strcmp(ql_verdict_name(QL_ZERO), "zeros") == 0, "verdicts have names");
}

static void test_crc(void)
{
	uint32_t v = 0;

	is_int(ql_crc32(0, "123456789", 9), 0xcbf43926, "CRC-32 check value");
	is_int(ql_crc32(ql_crc32(0, "1234", 4), "56789", 5), 0xcbf43926, "CRC-32 in pieces");
	is_int(ql_crc32(0, "", 0), 0, "CRC-32 of nothing");

	is_int(ql_parse_crc("cbf43926\n", 9, &v), 0, "checksum file with newline");
	is_int(v, 0xcbf43926, "  value");
	is_int(ql_parse_crc("CBF43926", 8, &v), 0, "upper case, no newline");
	static const struct { const char *text, *why; } bad[] = {
		{ "", "empty" }, { "cbf4392", "7 digits" }, { "cbf439266", "9 digits" },
		{ "cbf4392g", "a non-hex digit" }, { "cbf43926 ", "a trailing space" },
		{ "cbf43926\n\n", "two newlines" }, { "-bf43926", "a sign" },
		{ " cbf4392", "a leading space" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ql_parse_crc(bad[i].text, strlen(bad[i].text), &v), -EINVAL,
		       "checksum text with %s refused", bad[i].why);
	char nul[9] = "cbf4\0926";
	is_int(ql_parse_crc(nul, 8, &v), -EINVAL, "an embedded NUL refused");
}

static void test_report(void)
{
	struct ql_stats st = { 0 };
	char line[512];

	is_int(ql_stats_latency(&st, 5), 0, "5 ms is no stall");
	is_int(ql_stats_latency(&st, QL_STALL_MS), 0, "exactly the threshold is no stall");
	is_int(ql_stats_latency(&st, 750), 1, "750 ms is a stall");
	is_int(ql_stats_latency(&st, 300), 1, "300 ms is another");
	is_int(st.stalls, 2, "two stalls counted");
	is_int(st.longest_stall_ms, 750, "the longest is kept");
	is_int(st.max_ms, 750, "the slowest I/O of the second is kept");

	st.writes = 10;
	st.verified = 20;
	ql_format_progress(line, sizeof(line), &st, 3);
	is_str(line, "ql-workload: t=3 writes=10 verified=20 errors=0 mismatches=0 stalls=2 "
	       "max_ms=750 checks=0 check_failures=0", "progress line");
	is_int(st.max_ms, 0, "the progress line starts a new second");

	ql_format_summary(line, sizeof(line), &st, 9);
	ok(strstr(line, "longest_stall_ms=750") && strstr(line, "result=PASS"),
	   "summary passes with stalls but no errors: %s", line);
	st.mismatches = 1;
	ql_format_summary(line, sizeof(line), &st, 9);
	ok(strstr(line, "result=FAIL") != NULL, "one mismatch fails the run");
	st.mismatches = 0;
	st.check_failures = 1;
	ok(!ql_stats_passed(&st), "a failed file check fails the run");
	struct ql_stats idle = { 0 };
	ok(!ql_stats_passed(&idle), "a run that wrote nothing does not pass");
}

/* A failover after write `cut`: every block acknowledged until then that a later write
 * overwrites must be swept after the cut and before that write (else a lost write hides
 * under the new one). The one block write cut+1 overwrites is exempt: the sweep that reads
 * it follows write cut, possibly before the cut. */
static void test_sweep(void)
{
	const uint64_t n = 8;
	int all = 1, never_last = 1;

	for (uint64_t cut = 1; cut <= 3 * n; cut++) {
		for (uint64_t s = cut > n ? cut - n + 1 : 1; s <= cut; s++) {
			uint64_t lba = ql_write_lba(s, n), over = cut + 1, t;
			int swept = 0;

			while (ql_write_lba(over, n) != lba)
				over++;
			for (t = cut + 1; t < over; t++)
				swept |= ql_sweep_lba(t, n) == lba;
			if (over > cut + 1 && !swept)
				all = 0;
		}
		if (ql_sweep_lba(cut, n) == ql_write_lba(cut, n))
			never_last = 0;
	}
	ok(all, "every block acknowledged before a cut is swept before a later write overwrites it");
	ok(never_last, "the sweep never reads the block just written (that one is read back)");
	is_int((int)ql_sweep_lba(n, n), 0, "the sweep after the lap's last write reads block 0");
	is_int((int)ql_write_lba(n + 1, n), 0, "write n+1 wraps to block 0");
}

int main(void)
{
	test_sweep();
	test_blocks();
	test_crc();
	test_report();
	return done_testing();
}
