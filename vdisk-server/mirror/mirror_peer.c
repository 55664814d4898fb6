/* The mirror's session with the peer vdiskd: libiscsi driven by the loop, and the commands
 * that carry the client's writes, UNMAPs and FLUSHes (gathered per loop round into WRITE
 * BATCH commands); see mirror_internal.h. It reports to the mirror only through
 * mr->events: the peer's answer to an operation, and the session's loss.
 *
 * libiscsi calls a command's callback also when the context is destroyed (cancelled, with
 * no task): each callback carries the connection number it was sent on and does nothing but
 * free its task when that connection is no longer the current one. */
#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vdisk-server/mirror/mirror_internal.h"

static struct log_ratelimit rl_peer = LOG_RATELIMIT_INIT(20);

/* ---- libiscsi in the loop ---- */

static void io_fn(struct ev_io *io, uint32_t events)
{
	struct mirror *mr = io->arg;
	int rc;

	mr->in_service = 1;
	rc = iscsi_service(mr->iscsi, (int)events);
	mr->in_service = 0;
	if (rc < 0 && !mr->kill_pending) {
		log_limited(&rl_peer, LOG_WARNING, "mirror: client %s: connection to %s: %s",
			    mr->name, mr->cfg.peer, iscsi_get_error(mr->iscsi));
		/* the loss walks the in-flight list: after iscsi_service returns */
		mr->kill_pending = 2;
	}
	mr_update_io(mr);
}

void mr_destroy_context(struct mirror *mr)
{
	if (mr->io_fd >= 0) {
		ev_io_del(mr->loop, &mr->io);
		mr->io_fd = -1;
	}
	if (mr->iscsi) {
		struct iscsi_context *iscsi = mr->iscsi;

		mr->iscsi = NULL;
		/* libiscsi frees a TCP connect's state only in its callback, which destroying
		 * the context never calls (24 bytes lost each time, in libiscsi 1.19): a socket
		 * error runs it, and connect_cb, seeing no context, does nothing. */
		if (mr->connect_started_ms)
			iscsi_service(iscsi, POLLERR);
		iscsi_destroy_context(iscsi);	/* cancelled callbacks see a stale conn */
	}
	mr->kill_pending = 0;
	mr->ctl_started_ms = 0;
	mr->connect_started_ms = 0;
}

void mr_update_io(struct mirror *mr)
{
	int fd, ev;

	if (mr->kill_pending == 2) {
		mr->events->lost(mr, "connection lost");
		return;
	}
	if (mr->kill_pending) {
		mr_destroy_context(mr);
		return;
	}
	if (!mr->iscsi)
		return;
	/* queued commands go out on the loop's next round, together: sending each at once
	 * measured slower at queue depth 32 (more packets, more wake-ups on the peer) */
	ev = iscsi_which_events(mr->iscsi);
	fd = iscsi_get_fd(mr->iscsi);
	if (fd != mr->io_fd && mr->io_fd >= 0) {
		ev_io_del(mr->loop, &mr->io);
		mr->io_fd = -1;
	}
	if (fd < 0)
		return;
	if (mr->io_fd < 0) {
		if (ev_io_add(mr->loop, &mr->io, fd, (uint32_t)ev, io_fn, mr) == 0)
			mr->io_fd = fd;
		mr->io_events = ev;
	} else if (ev != mr->io_events) {
		ev_io_mod(mr->loop, &mr->io, (uint32_t)ev);
		mr->io_events = ev;
	}
}

struct pcb *mr_pcb_new(struct mirror *mr, struct mop *mop)
{
	struct pcb *p = malloc(sizeof(*p));

	if (p) {
		p->mr = mr;
		p->conn = mr->conn;
		p->mop = mop;
		p->mops = NULL;
		p->nmops = 0;
		p->out = NULL;
		p->task = NULL;
	}
	return p;
}

void mr_pcb_free(struct pcb *p)
{
	if (p) {
		free(p->out);
		free(p);
	}
}

/* The callback's common start: frees the task; false when the answer is moot. */
int mr_pcb_current(struct pcb *p, void *command_data)
{
	int current = p->mr->iscsi && p->conn == p->mr->conn;

	if (command_data || p->task)
		scsi_free_scsi_task(command_data ? command_data : p->task);
	p->task = NULL;
	return current;
}

/* ---- data commands to the peer ---- */

static void data_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	struct mop *m = p->mop;
	char why[96];

	(void)iscsi;
	if (!mr_pcb_current(p, command_data)) {
		mr_pcb_free(p);
		return;
	}
	mr_pcb_free(p);
	if (status != SCSI_STATUS_GOOD) {
		snprintf(why, sizeof(why), "answered status 0x%x", (unsigned)status);
		mr->events->lost(mr, why);
		return;
	}
	m->peer_pending--;
	mr->events->answered(m);
}

/* Copies into out the entries of iov that hold its first len bytes, the last one cut to fit;
 * returns how many. libiscsi must send from an array of its own: while it writes a command's
 * data it moves and shortens the entries it was given (restoring them afterwards), and a disk
 * worker may be reading the caller's array for the local leg of the same write at that very
 * moment (it then saw a short iovec and failed the write with EINVAL). */
static size_t iov_copy(struct scsi_iovec *out, const struct iovec *iov, int iovcnt, uint64_t len)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;

		out[n].iov_base = iov[i].iov_base;
		out[n].iov_len = l;
		n++;
		len -= l;
	}
	return n;
}

int mr_send_write(struct mirror *mr, struct mop *m, const struct iovec *iov, int iovcnt,
		  int fua)
{
	struct pcb *p = mr_pcb_new(mr, m);
	struct scsi_iovec *own;
	struct scsi_task *t;
	size_t n;

	if (p)
		p->out = malloc((size_t)iovcnt * sizeof(*own));
	if (!p || !p->out) {
		mr_pcb_free(p);
		return -ENOMEM;
	}
	own = (struct scsi_iovec *)p->out;
	n = iov_copy(own, iov, iovcnt, m->len);
	t = iscsi_write16_iov_task(mr->iscsi, 0, m->off / STORE_BLOCK_SIZE, NULL,
				   (uint32_t)m->len, STORE_BLOCK_SIZE, 0, 0, fua, 0, 0, data_cb, p,
				   own, (int)n);
	if (!t) {
		mr_pcb_free(p);
		return -EIO;
	}
	p->task = t;
	m->peer_pending++;
	return 0;
}

/* ---- client writes, gathered per loop round ---- */

static void batch_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct pcb *p = priv;
	struct mirror *mr = p->mr;
	char why[96];

	(void)iscsi;
	if (!mr_pcb_current(p, command_data)) {
		mr_pcb_free(p);
		return;
	}
	if (status != SCSI_STATUS_GOOD) {
		mr_pcb_free(p);
		snprintf(why, sizeof(why), "answered a write batch with status 0x%x",
			 (unsigned)status);
		mr->events->lost(mr, why);
		return;
	}
	/* The last completion may free mr, and only the last: one still listed keeps it. A
	 * completion can start commands whose failure gives the peer up: the loss then owns
	 * the writes not completed yet. */
	for (unsigned i = 0; i < p->nmops; i++) {
		p->mops[i]->peer_pending--;
		mr->events->answered(p->mops[i]);
		if (i + 1 < p->nmops && p->conn != mr->conn)
			break;
	}
	mr_pcb_free(p);
}

/* One WRITE BATCH for the n queued writes from first (bytes: its parameter list). */
static int send_batch(struct mirror *mr, struct mop *first, unsigned n, size_t bytes)
{
	size_t hdr = n * MP_BATCH_REC_LEN, niov = 1;
	struct scsi_iovec *iov;
	struct scsi_task *t;
	struct pcb *p;
	struct mop *m;
	unsigned i;

	m = first;
	for (i = 0; i < n; i++, m = m->snext)
		niov += (size_t)m->req->iovcnt;
	t = calloc(1, sizeof(*t));
	p = mr_pcb_new(mr, NULL);
	/* one block: the records, the iovec libiscsi sends from, the writes it carries */
	if (p)
		p->out = malloc(hdr + niov * sizeof(*iov) + n * sizeof(*p->mops));
	if (!t || !p || !p->out) {
		free(t);
		mr_pcb_free(p);
		return -ENOMEM;
	}
	iov = (struct scsi_iovec *)(p->out + hdr);
	p->mops = (struct mop **)(iov + niov);
	p->nmops = n;
	iov[0].iov_base = p->out;
	iov[0].iov_len = hdr;
	niov = 1;
	m = first;
	for (i = 0; i < n; i++, m = m->snext) {
		struct mp_batch_rec rec = {
			.lba = m->off / STORE_BLOCK_SIZE,
			.nblk = (uint32_t)(m->len / STORE_BLOCK_SIZE),
			.flags = m->req->flags & STORE_FUA ? MP_REC_FUA : 0,
		};

		mp_batch_rec_encode(&rec, p->out + i * MP_BATCH_REC_LEN);
		niov += iov_copy(iov + niov, m->req->iov, m->req->iovcnt, m->len);
		p->mops[i] = m;
	}
	mp_cdb(t->cdb, MP_WRITE_BATCH, n, (uint32_t)bytes);
	t->cdb_size = 16;
	t->xfer_dir = SCSI_XFER_WRITE;
	t->expxferlen = (int)bytes;
	scsi_task_set_iov_out(t, iov, (int)niov);
	p->task = t;
	if (iscsi_scsi_command_async(mr->iscsi, 0, t, batch_cb, NULL, p) < 0) {
		scsi_free_scsi_task(t);
		p->task = NULL;
		mr_pcb_free(p);
		return -EIO;
	}
	for (i = 0; i < n; i++)
		p->mops[i]->peer_pending++;
	mr->batches++;
	mr->batched += n;
	return 0;
}

void mr_queue_write(struct mirror *mr, struct mop *m)
{
	ev_defer(mr->loop, &mr->send);
	m->snext = NULL;
	if (mr->send_tail)
		mr->send_tail->snext = m;
	else
		mr->send_head = m;
	mr->send_tail = m;
	m->peer_pending++;	/* the loss records it like one sent */
}

/* Larger writes go alone: a batch stays within one burst with several writes in it. */
static int batchable(const struct mop *m)
{
	return m->len <= MP_BATCH_BYTES / 4;
}

void mr_send_queued(struct ev_defer *d)
{
	struct mirror *mr = d->arg;

	if (!mr->send_head)
		return;
	while (mr->send_head) {
		struct mop *first = mr->send_head, *m = first;
		size_t bytes = 0;
		unsigned n = 0, i;
		int rc;

		while (m && n < MP_BATCH_MAX && batchable(m) &&
		       bytes + MP_BATCH_REC_LEN + m->len <= MP_BATCH_BYTES) {
			bytes += MP_BATCH_REC_LEN + m->len;
			n++;
			m = m->snext;
		}
		if (n < 2) {
			n = 1;
			m = first->snext;
		}
		mr->send_head = m;
		if (!m)
			mr->send_tail = NULL;
		m = first;
		for (i = 0; i < n; i++, m = m->snext)
			m->peer_pending--;
		if (n == 1)
			rc = mr_send_write(mr, first, first->req->iov, first->req->iovcnt,
					   !!(first->req->flags & STORE_FUA));
		else
			rc = send_batch(mr, first, n, bytes);
		if (rc < 0) {
			/* recorded by the loss, with the rest of the queue */
			m = first;
			for (i = 0; i < n; i++, m = m->snext)
				m->peer_pending++;
			mr->events->lost(mr, "refused a write (out of memory)");
			return;
		}
	}
	/* the round's writes go now, in one system call where they fit */
	if (mr->io_fd >= 0)
		io_fn(&mr->io, POLLOUT);
	else
		mr_update_io(mr);
}

int mr_send_unmap(struct mirror *mr, struct mop *m)
{
	struct unmap_list list[UNMAP_DESC_MAX];
	uint64_t lba = m->off / STORE_BLOCK_SIZE, left = m->len / STORE_BLOCK_SIZE;

	while (left) {
		int n = 0;
		struct pcb *p;

		while (left && n < (int)UNMAP_DESC_MAX) {
			uint32_t num = left > UNMAP_DESC_BLOCKS ? UNMAP_DESC_BLOCKS : (uint32_t)left;

			list[n].lba = lba;
			list[n].num = num;
			n++;
			lba += num;
			left -= num;
		}
		p = mr_pcb_new(mr, m);
		if (!p)
			return -ENOMEM;
		p->task = iscsi_unmap_task(mr->iscsi, 0, 0, 0, list, n, data_cb, p);
		if (!p->task) {
			mr_pcb_free(p);
			return -EIO;
		}
		m->peer_pending++;
	}
	return 0;
}

int mr_send_flush(struct mirror *mr, struct mop *m)
{
	struct pcb *p = mr_pcb_new(mr, m);

	if (!p)
		return -ENOMEM;
	p->task = iscsi_synchronizecache16_task(mr->iscsi, 0, 0, 0, 0, 0, data_cb, p);
	if (!p->task) {
		mr_pcb_free(p);
		return -EIO;
	}
	m->peer_pending++;
	return 0;
}
