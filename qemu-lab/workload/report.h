/* The workload's counters and the lines it prints about them on the serial console, which the
 * lab's checks parse: keep the formats stable. */
#ifndef QEMU_LAB_REPORT_H
#define QEMU_LAB_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* An I/O slower than this is a stall: the failover target is under 1 s, and a healthy write
 * under TCG takes a few milliseconds. */
#define QL_STALL_MS 200

struct ql_stats {
	uint64_t writes;		/* acknowledged writes */
	uint64_t verified;		/* reads that matched the last acknowledged write */
	uint64_t errors;		/* failed reads and writes */
	uint64_t mismatches;		/* reads that did not match */
	uint64_t stalls;
	uint64_t longest_stall_ms;
	uint64_t max_ms;		/* slowest I/O since the last progress line */
	uint64_t checks;		/* re-reads of the checksummed file */
	uint64_t check_failures;
};

/* Accounts one I/O's latency; returns 1 when it was a stall, which the caller reports. */
int ql_stats_latency(struct ql_stats *st, uint64_t ms);

/* Both return snprintf's result; the progress line resets max_ms for the next second. */
int ql_format_progress(char *buf, size_t len, struct ql_stats *st, uint64_t elapsed_s);
int ql_format_summary(char *buf, size_t len, const struct ql_stats *st, uint64_t elapsed_s);

int ql_stats_passed(const struct ql_stats *st);

#endif
