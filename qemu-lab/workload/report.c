/* Counters and report lines of the workload. */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>

int ql_stats_latency(struct ql_stats *st, uint64_t ms)
{
	if (ms > st->max_ms)
		st->max_ms = ms;
	if (ms <= QL_STALL_MS)
		return 0;
	st->stalls++;
	if (ms > st->longest_stall_ms)
		st->longest_stall_ms = ms;
	return 1;
}

int ql_format_progress(char *buf, size_t len, struct ql_stats *st, uint64_t elapsed_s)
{
	int n = snprintf(buf, len, "ql-workload: t=%" PRIu64 " writes=%" PRIu64 " verified=%"
			 PRIu64 " errors=%" PRIu64 " mismatches=%" PRIu64 " stalls=%" PRIu64
			 " max_ms=%" PRIu64 " checks=%" PRIu64 " check_failures=%" PRIu64,
			 elapsed_s, st->writes, st->verified, st->errors, st->mismatches,
			 st->stalls, st->max_ms, st->checks, st->check_failures);

	st->max_ms = 0;
	return n;
}

int ql_stats_passed(const struct ql_stats *st)
{
	return st->writes > 0 && st->errors == 0 && st->mismatches == 0 &&
	       st->check_failures == 0;
}

int ql_format_summary(char *buf, size_t len, const struct ql_stats *st, uint64_t elapsed_s)
{
	return snprintf(buf, len, "ql-workload: summary seconds=%" PRIu64 " writes=%" PRIu64
			" verified=%" PRIu64 " errors=%" PRIu64 " mismatches=%" PRIu64
			" stalls=%" PRIu64 " longest_stall_ms=%" PRIu64 " checks=%" PRIu64
			" check_failures=%" PRIu64 " result=%s",
			elapsed_s, st->writes, st->verified, st->errors, st->mismatches,
			st->stalls, st->longest_stall_ms, st->checks, st->check_failures,
			ql_stats_passed(st) ? "PASS" : "FAIL");
}
