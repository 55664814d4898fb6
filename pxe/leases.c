#include "pxe/leases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/netaddr.h"

static const uint8_t zero_mac[6];

int leases_init(struct lease_table *t, const struct pxe_pool *pool, const char *state_dir)
{
	memset(t, 0, sizeof(*t));
	if ((size_t)snprintf(t->path, sizeof(t->path), "%s/leases", state_dir) >= sizeof(t->path))
		return -ENAMETOOLONG;
	t->pool = *pool;
	t->n = (size_t)(pool->last - pool->first) + 1;
	t->slots = calloc(t->n, sizeof(*t->slots));
	return t->slots ? 0 : -ENOMEM;
}

void leases_free(struct lease_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->n = 0;
}

struct lease *leases_slot(struct lease_table *t, uint32_t ip)
{
	if (ip < t->pool.first || ip > t->pool.last)
		return NULL;
	return &t->slots[ip - t->pool.first];
}

uint32_t leases_ip(const struct lease_table *t, const struct lease *l)
{
	return t->pool.first + (uint32_t)(l - t->slots);
}

static int live(const struct lease *l, time_t now)
{
	return l->state != LEASE_FREE && l->expires > now;
}

struct lease *leases_by_mac(struct lease_table *t, const uint8_t mac[6], time_t now)
{
	struct lease *hint = NULL;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct lease *l = &t->slots[i];

		if (memcmp(l->mac, mac, 6) != 0)
			continue;
		if (live(l, now) && l->state != LEASE_DECLINED)
			return l;
		if (!hint)
			hint = l;
	}
	return hint;
}

int leases_usable(const struct lease *l, const uint8_t mac[6], time_t now)
{
	if (!live(l, now))
		return 1;
	return l->state != LEASE_DECLINED && memcmp(l->mac, mac, 6) == 0;
}

struct lease *leases_alloc(struct lease_table *t, const uint8_t mac[6], time_t now,
			   int (*skip)(uint32_t ip, void *arg), void *arg)
{
	struct lease *best = NULL;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct lease *l = &t->slots[i];

		if (!leases_usable(l, mac, now))
			continue;
		if (skip && skip(leases_ip(t, l), arg))
			continue;
		/* Never used: take it, so a returning client's old address stays its own. */
		if (l->state == LEASE_FREE && memcmp(l->mac, zero_mac, 6) == 0 && l->expires == 0)
			return l;
		if (!best || l->expires < best->expires)
			best = l;
	}
	return best;
}

void leases_offer(struct lease_table *t, struct lease *l, const uint8_t mac[6], time_t until)
{
	(void)t;
	/* An offer of the address the client already holds must not shorten its lease. */
	if (l->state == LEASE_BOUND && memcmp(l->mac, mac, 6) == 0 && l->expires > until)
		return;
	memcpy(l->mac, mac, 6);
	l->state = LEASE_OFFERED;
	l->expires = until;
}

void leases_bind(struct lease_table *t, struct lease *l, const uint8_t mac[6], time_t until)
{
	memcpy(l->mac, mac, 6);
	l->state = LEASE_BOUND;
	l->expires = until;
	t->dirty = 1;
}

void leases_release(struct lease_table *t, struct lease *l)
{
	if (l->state == LEASE_BOUND)
		t->dirty = 1;
	l->state = LEASE_FREE;
	/* Expired just now: the client's own address is the last one handed out again. */
	l->expires = 1;
}

void leases_decline(struct lease_table *t, struct lease *l, time_t until)
{
	memset(l->mac, 0, 6);
	l->state = LEASE_DECLINED;
	l->expires = until;
	t->dirty = 1;
}

size_t leases_count(const struct lease_table *t, enum lease_state s, time_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->slots[i].state == s && t->slots[i].expires > now)
			n++;
	return n;
}

/* One line: "MAC IP EXPIRES STATE" where STATE is bound or declined. */
static int parse_line(struct lease_table *t, char *line, time_t now)
{
	char mac_s[32], ip_s[32], state_s[16];
	long long expires;
	uint8_t mac[6];
	uint32_t ip;
	struct lease *l;
	int state;

	if (sscanf(line, "%31s %31s %lld %15s", mac_s, ip_s, &expires, state_s) != 4)
		return -EINVAL;
	if (mac_parse(mac_s, mac) || ipv4_parse(ip_s, &ip))
		return -EINVAL;
	if (strcmp(state_s, "bound") == 0)
		state = LEASE_BOUND;
	else if (strcmp(state_s, "declined") == 0)
		state = LEASE_DECLINED;
	else
		return -EINVAL;
	l = leases_slot(t, ip);
	if (!l)
		return -ERANGE;
	memcpy(l->mac, mac, 6);
	l->expires = (time_t)expires;
	l->state = (uint8_t)state;
	/* Expired leases stay as hints: the client gets the same address back. */
	if (l->expires <= now)
		l->state = LEASE_FREE;
	return 0;
}

int leases_load(struct lease_table *t, time_t now, unsigned *skipped)
{
	char line[256];
	FILE *f = fopen(t->path, "re");

	*skipped = 0;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && parse_line(t, line, now))
			(*skipped)++;
	fclose(f);
	return 0;
}

int leases_save(struct lease_table *t, time_t now)
{
	char tmp[sizeof(t->path) + 8], mac[MAC_STRLEN], ip[INET_ADDRSTRLEN];
	FILE *f;
	size_t i;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", t->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto out_unlink;
	}
	fprintf(f, "# pxed leases: MAC IP EXPIRES(unix) STATE. Rewritten whole, never edited.\n");
	for (i = 0; i < t->n; i++) {
		const struct lease *l = &t->slots[i];

		if (!live(l, now) || (l->state != LEASE_BOUND && l->state != LEASE_DECLINED))
			continue;
		mac_format(l->mac, mac);
		ipv4_format(leases_ip(t, l), ip);
		fprintf(f, "%s %s %lld %s\n", mac, ip, (long long)l->expires,
			l->state == LEASE_BOUND ? "bound" : "declined");
	}
	/* The rename publishes the file: its data must be on disk first. */
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc)
		goto out_unlink;
	if (rename(tmp, t->path)) {
		rc = -errno;
		goto out_unlink;
	}
	t->dirty = 0;
	return 0;

out_unlink:
	unlink(tmp);
	return rc;
}
