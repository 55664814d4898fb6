/* Lease table: allocation order, holding, expiry, decline, release, and the leases file
 * surviving a restart, with unreadable lines skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxe/leases.h"
#include "tests/lib/tap.h"

static const uint8_t A[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t B[6] = { 2, 0, 0, 0, 0, 0xb };
static const uint8_t C[6] = { 2, 0, 0, 0, 0, 0xc };

static int skip_first(uint32_t ip, void *arg)
{
	return ip == *(uint32_t *)arg;
}

int main(void)
{
	char dir[] = "/tmp/px-leases.XXXXXX", path[64];
	struct pxe_pool pool = { 0x0a000064, 0x0a000066 };	/* 3 addresses */
	struct lease_table t, t2;
	struct lease *l, *m;
	time_t now = 1000000;
	unsigned skipped;
	uint32_t first = pool.first;
	FILE *f;

	if (!mkdtemp(dir)) {
		skip_all("no temporary directory");
		return 0;
	}
	is_int(leases_init(&t, &pool, dir), 0, "table for 3 addresses");
	is_int(t.n, 3, "3 slots");
	ok(leases_slot(&t, 0x0a000063) == NULL && leases_slot(&t, 0x0a000067) == NULL,
	   "addresses outside the pool have no slot");

	l = leases_alloc(&t, A, now, NULL, NULL);
	is_int(leases_ip(&t, l), 0x0a000064, "first allocation: first address");
	leases_offer(&t, l, A, now + 60);
	ok(!t.dirty, "an offer is not written to disk");
	ok(leases_by_mac(&t, A, now) == l, "found by MAC");
	ok(!leases_usable(l, B, now), "offered to A: not usable by B");
	ok(leases_usable(l, B, now + 61), "usable by B once the offer expired");
	m = leases_alloc(&t, B, now, skip_first, &first);
	is_int(leases_ip(&t, m), 0x0a000065, "B gets the next one");
	leases_bind(&t, m, B, now + 3600);
	ok(t.dirty, "a bound lease is to be saved");
	leases_bind(&t, l, A, now + 3600);
	l = leases_alloc(&t, C, now, NULL, NULL);
	is_int(leases_ip(&t, l), 0x0a000066, "C gets the last");
	leases_bind(&t, l, C, now + 10);
	ok(leases_alloc(&t, B, now, skip_first, &first) == leases_slot(&t, 0x0a000065),
	   "B may have its own address again");
	ok(leases_alloc(&t, (const uint8_t *)"\2\0\0\0\0\xd", now, NULL, NULL) == NULL,
	   "pool exhausted for a fourth client");
	ok(leases_alloc(&t, (const uint8_t *)"\2\0\0\0\0\xd", now + 11, NULL, NULL) == l,
	   "C's expired lease is reused");
	is_int(leases_count(&t, LEASE_BOUND, now), 3, "3 bound");

	leases_decline(&t, leases_slot(&t, 0x0a000065), now + 600);
	ok(!leases_usable(leases_slot(&t, 0x0a000065), B, now), "declined: not even for B");
	ok(leases_by_mac(&t, B, now) == NULL || leases_by_mac(&t, B, now)->state != LEASE_DECLINED,
	   "a declined slot is nobody's");
	leases_release(&t, leases_slot(&t, 0x0a000064));
	is_int(leases_count(&t, LEASE_BOUND, now), 1, "after release and decline: 1 bound (C)");
	ok(leases_by_mac(&t, A, now) == leases_slot(&t, 0x0a000064), "A's released address is remembered");

	is_int(leases_save(&t, now), 0, "saved");
	ok(!t.dirty, "clean after saving");
	snprintf(path, sizeof(path), "%s/leases.new", dir);
	ok(access(path, F_OK) != 0, "no temporary file left");

	is_int(leases_init(&t2, &pool, dir), 0, "a second table (a restart)");
	is_int(leases_load(&t2, now, &skipped), 0, "loaded");
	is_int(skipped, 0, "nothing skipped");
	is_int(leases_count(&t2, LEASE_BOUND, now), 1, "the bound lease is back");
	is_int(leases_count(&t2, LEASE_DECLINED, now), 1, "and the declined address");
	ok(memcmp(leases_slot(&t2, 0x0a000066)->mac, C, 6) == 0, "held by C");
	is_int(leases_count(&t2, LEASE_BOUND, now + 20), 0, "which expires on time");
	leases_free(&t2);

	/* A damaged file: bad lines are skipped, good ones kept. */
	snprintf(path, sizeof(path), "%s/leases", dir);
	f = fopen(path, "w");
	fprintf(f, "# comment\n"
		"02:00:00:00:00:0a 10.0.0.100 2000000 bound\n"
		"nonsense\n"
		"02:00:00:00:00:0b 10.0.0.200 2000000 bound\n"
		"02:00:00:00:00:0c 10.0.0.101 2000000 stolen\n"
		"zz:00:00:00:00:0c 10.0.0.102 2000000 bound\n"
		"02:00:00:00:00:0c 10.0.0.102 1 bound\n");
	fclose(f);
	leases_init(&t2, &pool, dir);
	is_int(leases_load(&t2, now, &skipped), 0, "damaged file still loads");
	is_int(skipped, 4, "4 bad lines skipped (garbage, outside pool, bad state, bad MAC)");
	is_int(leases_count(&t2, LEASE_BOUND, now), 1, "the good line is kept");
	ok(memcmp(leases_slot(&t2, 0x0a000066)->mac, C, 6) == 0 &&
	   leases_slot(&t2, 0x0a000066)->state == LEASE_FREE, "an expired lease is a hint only");
	leases_free(&t2);
	unlink(path);
	leases_init(&t2, &pool, dir);
	is_int(leases_load(&t2, now, &skipped), 0, "no file: empty table");
	leases_free(&t2);
	leases_free(&t);
	rmdir(dir);
	return done_testing();
}
