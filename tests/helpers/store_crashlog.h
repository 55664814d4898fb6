/* Shared by the crash test helpers (store_crash.c: the store API; store_iscsicrash.c: iSCSI
 * against vdiskd): the write log and its verification.
 *
 * The load appends a record to the log before it submits a write ('S') and after the write
 * completes with success ('A'); write(2) puts them in the page cache, which a kill -9 of
 * anybody does not lose. Writes in flight never overlap, so each sector's history in the log
 * is sequential. Verification then requires, for every sector of the image: the data of the
 * last acknowledged write to it, or (only if a later write to it was still in flight) that
 * later write's data; a sector never written must hold the base. Every sector written carries
 * its write's sequence number and its own index, so a sector from the wrong write or the wrong
 * place is caught. */
#ifndef TESTS_STORE_CRASHLOG_H
#define TESTS_STORE_CRASHLOG_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CL_SECT 512u
#define CL_MAX_SECTS 64u
#define CL_VBUF (1u << 20)

struct cl_rec {
	uint32_t type;		/* 'S' or 'A' */
	uint32_t nsect;
	uint64_t seq;
	uint64_t sector;
};

static int cl_fd = -1;

static inline void cl_fill_sector(unsigned char *p, uint64_t seq, uint64_t sector)
{
	unsigned i;

	memcpy(p, &seq, 8);
	memcpy(p + 8, &sector, 8);
	for (i = 16; i < CL_SECT; i++)
		p[i] = (unsigned char)(seq * 7 + i);
}

static inline int cl_sector_seq(const unsigned char *p, uint64_t sector, uint64_t *seq)
{
	uint64_t s;
	unsigned i;

	memcpy(seq, p, 8);
	memcpy(&s, p + 8, 8);
	if (s != sector)
		return -1;
	for (i = 16; i < CL_SECT; i++)
		if (p[i] != (unsigned char)(*seq * 7 + i))
			return -1;
	return 0;
}

static inline int cl_open(const char *path)
{
	cl_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return cl_fd < 0 ? -1 : 0;
}

static inline void cl_log(uint32_t type, uint64_t seq, uint64_t sector, uint32_t nsect)
{
	struct cl_rec r = { type, nsect, seq, sector };

	if (write(cl_fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		perror("crash log");
		exit(1);
	}
}

/* Picks a random write of 1..CL_MAX_SECTS sectors (a quarter of them 4 KiB aligned, as
 * initiators send) that overlaps none of the n in-flight ranges [start[i], start[i]+len[i]). */
static inline void cl_pick(uint64_t nsectors, const uint64_t *start, const uint64_t *len,
			   int n, uint64_t *sector, uint64_t *nsect)
{
	int i, clash;

	do {
		*nsect = 1 + (uint64_t)rand() % CL_MAX_SECTS;
		if (rand() % 4 == 0)
			*nsect = 8;
		*sector = (uint64_t)rand() % (nsectors - *nsect);
		if (*nsect == 8)
			*sector &= ~7ull;
		for (clash = 0, i = 0; i < n && !clash; i++)
			clash = len[i] && *sector < start[i] + len[i] && start[i] < *sector + *nsect;
	} while (clash);
}

struct cl_state {
	uint64_t acked;		/* 0: never acknowledged, the base */
	uint64_t pending;	/* a write submitted after it, never acknowledged */
};

/* read_fn reads len bytes at off of the image under test into buf: 0 or -1. Prints the
 * counts; returns 0 when every sector is as the log requires. */
static inline int cl_verify(const char *log_path, const char *base_path, uint64_t nsectors,
			    int (*read_fn)(void *arg, uint64_t off, uint64_t len, void *buf),
			    void *arg)
{
	struct cl_state *ss = calloc(nsectors, sizeof(*ss));
	unsigned char *buf = malloc(CL_VBUF), *base = malloc(CL_VBUF);
	uint64_t nacked = 0, npending = 0, landed = 0, bad = 0, i, j, n, seq;
	struct cl_rec r;
	int fd, bfd;

	fd = open(log_path, O_RDONLY);
	bfd = open(base_path, O_RDONLY);
	if (fd < 0 || bfd < 0 || !ss || !buf || !base) {
		perror("crash log: verify");
		return 1;
	}
	/* A torn last record (killed mid-write) is ignored. */
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		if (r.nsect > CL_MAX_SECTS || r.sector > nsectors - r.nsect) {
			fprintf(stderr, "crash log: bad record\n");
			return 1;
		}
		for (i = r.sector; i < r.sector + r.nsect; i++) {
			if (r.type == 'S') {
				ss[i].pending = r.seq;
			} else if (ss[i].pending == r.seq) {
				ss[i].acked = r.seq;
				ss[i].pending = 0;
			}
		}
		nacked += r.type == 'A';
	}
	close(fd);
	for (i = 0; i < nsectors; i += n) {
		n = nsectors - i < CL_VBUF / CL_SECT ? nsectors - i : CL_VBUF / CL_SECT;
		if (read_fn(arg, i * CL_SECT, n * CL_SECT, buf) ||
		    pread(bfd, base, n * CL_SECT, (off_t)(i * CL_SECT)) != (ssize_t)(n * CL_SECT)) {
			fprintf(stderr, "crash log: read failed at sector %llu\n",
				(unsigned long long)i);
			return 1;
		}
		for (j = 0; j < n; j++) {
			const unsigned char *p = buf + j * CL_SECT;
			struct cl_state *s = &ss[i + j];
			int is_base = memcmp(p, base + j * CL_SECT, CL_SECT) == 0;
			int is_write = !cl_sector_seq(p, i + j, &seq);

			if (s->pending) {
				npending++;
				if (is_write && seq == s->pending) {
					landed++;
					continue;
				}
			}
			if (s->acked ? !(is_write && seq == s->acked) : !is_base) {
				if (bad++ < 5)
					fprintf(stderr, "crash log: sector %llu: want %s %llu\n",
						(unsigned long long)(i + j),
						s->acked ? "write" : "base",
						(unsigned long long)s->acked);
			}
		}
	}
	close(bfd);
	printf("acknowledged writes %llu, sectors %llu, sectors in flight at the kill %llu "
	       "(landed %llu), bad sectors %llu\n", (unsigned long long)nacked,
	       (unsigned long long)nsectors, (unsigned long long)npending,
	       (unsigned long long)landed, (unsigned long long)bad);
	free(ss);
	free(buf);
	free(base);
	return bad ? 1 : 0;
}

#endif
