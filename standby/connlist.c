#include "standby/connlist.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int conn_cmp(const struct tcp_conn *a, const struct tcp_conn *b)
{
	if (a->laddr != b->laddr)
		return a->laddr < b->laddr ? -1 : 1;
	if (a->lport != b->lport)
		return a->lport < b->lport ? -1 : 1;
	if (a->raddr != b->raddr)
		return a->raddr < b->raddr ? -1 : 1;
	if (a->rport != b->rport)
		return a->rport < b->rport ? -1 : 1;
	return 0;
}

static int conn_qcmp(const void *a, const void *b)
{
	return conn_cmp(a, b);
}

void conn_list_add(struct conn_list *l, const struct tcp_conn *c)
{
	if (l->n == CONN_LIST_MAX) {
		l->dropped++;
		return;
	}
	l->c[l->n++] = *c;
}

void conn_list_finish(struct conn_list *l)
{
	unsigned i, out = 0;

	qsort(l->c, l->n, sizeof(l->c[0]), conn_qcmp);
	for (i = 0; i < l->n; i++)
		if (!out || conn_cmp(&l->c[out - 1], &l->c[i]) != 0)
			l->c[out++] = l->c[i];
	l->n = out;
}

int conn_list_equal(const struct conn_list *a, const struct conn_list *b)
{
	unsigned i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (conn_cmp(&a->c[i], &b->c[i]) != 0)
			return 0;
	return 1;
}

size_t conn_list_encode(const struct conn_list *l, uint8_t *out)
{
	unsigned i;

	for (i = 0; i < l->n; i++, out += CONN_WIRE_LEN) {
		uint32_t la = htobe32(l->c[i].laddr), ra = htobe32(l->c[i].raddr);
		uint16_t lp = htobe16(l->c[i].lport), rp = htobe16(l->c[i].rport);

		memcpy(out, &la, 4);
		memcpy(out + 4, &lp, 2);
		memcpy(out + 6, &ra, 4);
		memcpy(out + 10, &rp, 2);
	}
	return (size_t)l->n * CONN_WIRE_LEN;
}

static int addr_allowed(uint32_t a, const uint32_t *addrs, unsigned naddrs)
{
	unsigned i;

	for (i = 0; i < naddrs; i++)
		if (addrs[i] == a)
			return 1;
	return 0;
}

int conn_list_decode(struct conn_list *l, const uint8_t *buf, size_t len,
		     const uint32_t *addrs, unsigned naddrs)
{
	unsigned i, n;

	l->n = 0;
	l->dropped = 0;
	if (len % CONN_WIRE_LEN || len > CONN_LIST_MAX_BYTES)
		return -EBADMSG;
	n = (unsigned)(len / CONN_WIRE_LEN);
	for (i = 0; i < n; i++, buf += CONN_WIRE_LEN) {
		struct tcp_conn *c = &l->c[i];
		uint32_t la, ra;
		uint16_t lp, rp;

		memcpy(&la, buf, 4);
		memcpy(&lp, buf + 4, 2);
		memcpy(&ra, buf + 6, 4);
		memcpy(&rp, buf + 10, 2);
		c->laddr = be32toh(la);
		c->lport = be16toh(lp);
		c->raddr = be32toh(ra);
		c->rport = be16toh(rp);
		if (!c->laddr || !c->lport || !c->raddr || !c->rport ||
		    !addr_allowed(c->laddr, addrs, naddrs) ||
		    (i && conn_cmp(&l->c[i - 1], c) >= 0))
			return -EBADMSG;
	}
	l->n = n;
	return 0;
}
