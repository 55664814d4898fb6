/* Full feature phase (RFC 7143 11): the CmdSN window, SCSI commands with immediate,
 * unsolicited and R2T-solicited Data-Out, Data-In with phase-collapsed status, task
 * management, NOP-Out/NOP-In, logout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vdisk-server/iscsi/iscsi_tx.h"

/* Data-Out beyond this is refused (larger than any command we execute needs). */
#define MAX_WRITE_BUFFER (SCSI_MAX_XFER_BYTES + SCSI_BLOCK)

static struct log_ratelimit rl_cmd = LOG_RATELIMIT_INIT(10);

static void task_unlink(struct iscsi_conn *c, struct iscsi_task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		c->tasks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	c->ntasks--;
}

void cmd_task_free(struct iscsi_task *t)
{
	if (t->buf) {
		t->conn->wbuf -= t->edtl;
		t->conn->srv->wbuf_total -= t->edtl;
	}
	scsi_task_release(&t->st);
	free(t->buf);
	free(t);
}

/* A write buffer for t, within the connection's and the server's budget: 0, -ENOBUFS when
 * over (the command gets TASK SET FULL), -ENOMEM. */
static int wbuf_alloc(struct iscsi_conn *c, struct iscsi_task *t)
{
	struct iscsi_server *srv = c->srv;

	if (c->wbuf + t->edtl > ISCSI_WBUF_CONN || srv->wbuf_total + t->edtl > ISCSI_WBUF_TOTAL)
		return -ENOBUFS;
	t->buf = malloc(t->edtl);
	if (!t->buf)
		return -ENOMEM;
	c->wbuf += t->edtl;
	srv->wbuf_total += t->edtl;
	return 0;
}

static struct iscsi_task *task_find(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_task *t = c->tasks; t; t = t->next)
		if (t->itt == itt)
			return t;
	return NULL;
}

static void tmf_respond(struct iscsi_conn *c, struct iscsi_tmf *tmf)
{
	struct tx_pdu *p = tx_new(c, ISCSI_OP_TMF_RSP);

	if (p) {
		p->hdr[1] = ISCSI_FLAG_FINAL;
		p->hdr[2] = tmf->response;
		put_be32(p->hdr + BHS_ITT, tmf->itt);
		tx_stamp_sn(c, p, 1);
		/* TARGET COLD RESET ends the connection (RFC 7143 11.5.1) */
		p->close_after = tmf->cold;
		c->rx_stopped |= tmf->cold;
		tx_queue(c, p);
	}
	free(tmf);
}

/* A logout waits for the tasks in flight: answered once the last is done. */
static void logout_check(struct iscsi_conn *c)
{
	struct tx_pdu *p;

	if (!c->logout_pending || c->ntasks || c->state == CONN_CLOSING)
		return;
	c->logout_pending = 0;
	p = tx_new(c, ISCSI_OP_LOGOUT_RSP);
	if (!p)
		return;
	p->hdr[1] = ISCSI_FLAG_FINAL;
	p->hdr[2] = 0;		/* closed successfully */
	put_be32(p->hdr + BHS_ITT, c->logout_itt);
	tx_stamp_sn(c, p, 1);
	put_be16(p->hdr + 40, (uint16_t)c->params.time2wait);
	put_be16(p->hdr + 42, (uint16_t)c->params.time2retain);
	p->close_after = 1;
	c->rx_stopped = 1;
	tx_queue(c, p);
}

static void residual(struct iscsi_task *t, uint8_t *hdr)
{
	uint32_t want;

	if (t->reading)
		want = t->st.in_len;
	else if (t->writing)
		want = t->st.out_want;
	else
		want = t->st.in_len > t->st.out_want ? t->st.in_len : t->st.out_want;
	if (want > t->edtl) {
		hdr[1] |= ISCSI_RSP_OVERFLOW;
		put_be32(hdr + 44, want - t->edtl);
	} else if (want < t->edtl) {
		hdr[1] |= ISCSI_RSP_UNDERFLOW;
		put_be32(hdr + 44, t->edtl - want);
	}
}

static void send_response(struct iscsi_conn *c, struct iscsi_task *t)
{
	struct scsi_task *st = &t->st;
	struct tx_pdu *p = tx_new(c, ISCSI_OP_SCSI_RSP);

	if (!p) {
		cmd_task_free(t);
		return;
	}
	p->hdr[1] = ISCSI_FLAG_FINAL;
	p->hdr[3] = st->status;
	put_be32(p->hdr + BHS_ITT, t->itt);
	tx_stamp_sn(c, p, 1);
	put_be32(p->hdr + 36, t->r2tsn);	/* ExpDataSN: R2Ts sent */
	residual(t, p->hdr);
	if (st->sense_len) {
		uint8_t *s = malloc(2u + st->sense_len);

		if (s) {
			put_be16(s, st->sense_len);
			memcpy(s + 2, st->sense, st->sense_len);
			p->own = s;
			p->data = s;
			p->dlen = 2u + st->sense_len;
		}
	}
	p->release = t;
	tx_queue(c, p);
}

/* Data-In straight from the buffer the store filled: no copy. The last PDU carries the
 * status (phase collapse) and frees the task once it is sent. */
static void send_data_in(struct iscsi_conn *c, struct iscsi_task *t)
{
	struct scsi_task *st = &t->st;
	uint32_t total = st->in_len < t->edtl ? st->in_len : t->edtl, off = 0, sn = 0;
	uint32_t seg = c->params.max_recv_dsl, burst = c->params.max_burst;
	uint32_t ext_start = 0;		/* Data-In offset where st->ext[e] begins */
	int e = 0;

	while (off < total) {
		uint32_t n = total - off, in_burst = burst - off % burst;
		struct tx_pdu *p;
		int last;

		if (n > seg)
			n = seg;
		if (n > in_burst)
			n = in_burst;
		if (st->nextents) {
			/* a PDU's data comes from one file range */
			while (off - ext_start >= st->ext[e].length) {
				ext_start += (uint32_t)st->ext[e].length;
				e++;
			}
			if (n > st->ext[e].length - (off - ext_start))
				n = (uint32_t)(st->ext[e].length - (off - ext_start));
		}
		last = off + n == total;
		p = tx_new(c, ISCSI_OP_DATA_IN);
		if (!p) {
			c->hooks->close(c, "out of memory");
			cmd_task_free(t);
			return;
		}
		if (last || (off + n) % burst == 0)
			p->hdr[1] = ISCSI_FLAG_FINAL;
		memcpy(p->hdr + BHS_LUN, t->lun, 8);
		put_be32(p->hdr + BHS_ITT, t->itt);
		put_be32(p->hdr + BHS_TTT, ISCSI_RESERVED_TAG);
		if (last) {
			p->hdr[1] |= ISCSI_DATAIN_STATUS;
			p->hdr[3] = st->status;
			residual(t, p->hdr);
			tx_stamp_sn(c, p, 1);
			p->release = t;
		} else {
			tx_stamp_sn(c, p, 0);
			put_be32(p->hdr + 24, 0);	/* StatSN only with status */
		}
		put_be32(p->hdr + 36, sn++);
		put_be32(p->hdr + 40, off);
		if (st->nextents) {
			p->file_fd = st->ext[e].fd;
			p->file_off = st->ext[e].offset + (off - ext_start);
		} else {
			p->data = st->in + off;
		}
		p->dlen = n;
		tx_queue(c, p);
		off += n;
	}
}

static void task_done(struct scsi_task *st)
{
	struct iscsi_task *t = st->priv;
	struct iscsi_conn *c = t->conn;

	task_unlink(c, t);
	if (t->aborted || c->state == CONN_CLOSING) {
		struct iscsi_tmf *tmf = t->tmf;

		cmd_task_free(t);
		if (tmf && --tmf->waiting == 0) {
			if (c->state == CONN_CLOSING)
				free(tmf);
			else
				tmf_respond(c, tmf);
		}
		if (c->state == CONN_CLOSING)
			c->hooks->reap_later(c);
		else
			logout_check(c);
		return;
	}
	if (st->status == SAM_STAT_GOOD && st->in_len && t->reading && t->edtl)
		send_data_in(c, t);
	else
		send_response(c, t);
	logout_check(c);
}

static void task_exec(struct iscsi_conn *c, struct iscsi_task *t)
{
	struct scsi_task *st = &t->st;

	t->executing = 1;
	st->target = &c->target->scsi;
	st->lun = scsi_lun_decode(t->lun);
	st->nexus = &c->nexus;
	st->edtl = t->edtl;
	st->out = t->buf;
	st->out_len = t->got;
	st->done = task_done;
	st->priv = t;
	/* sendfile cannot compute a data digest on the way */
	st->zero_copy = t->reading && !c->params.data_digest;
	c->commands++;
	c->srv->stats.commands++;
	if (t->discard) {
		/* more Data-Out than any command we run takes */
		st->lu = NULL;
		scsi_sense(st, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
		task_done(st);
		return;
	}
	scsi_execute(st);
}

static int send_r2t(struct iscsi_conn *c, struct iscsi_task *t)
{
	struct tx_pdu *p = tx_new(c, ISCSI_OP_R2T);
	uint32_t len = t->edtl - t->got;

	if (!p)
		return -ENOMEM;
	if (len > c->params.max_burst)
		len = c->params.max_burst;
	t->burst_end = t->got + len;
	t->ttt = (c->nop_ttt + 0x80000000u + t->itt * 2654435761u + t->r2tsn) | 0x80000000u;
	if (t->ttt == ISCSI_RESERVED_TAG)
		t->ttt--;
	t->exp_datasn = 0;
	p->hdr[1] = ISCSI_FLAG_FINAL;
	memcpy(p->hdr + BHS_LUN, t->lun, 8);
	put_be32(p->hdr + BHS_ITT, t->itt);
	put_be32(p->hdr + BHS_TTT, t->ttt);
	tx_stamp_sn(c, p, 0);
	put_be32(p->hdr + 36, t->r2tsn++);
	put_be32(p->hdr + 40, t->got);
	put_be32(p->hdr + 44, len);
	tx_queue(c, p);
	return 0;
}

/* All Data-Out of the current phase is in: execute, or ask for the next burst. */
static int write_progress(struct iscsi_conn *c, struct iscsi_task *t)
{
	if (t->got == t->edtl || t->discard) {
		task_exec(c, t);
		return 0;
	}
	return send_r2t(c, t);
}

static int scsi_command(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *h = pdu->bhs;
	uint8_t flags = h[1];
	struct iscsi_task *t;

	if ((flags & ISCSI_CMD_READ) && (flags & ISCSI_CMD_WRITE)) {
		tx_reject(c, h, ISCSI_REJECT_UNSUPPORTED);	/* bidirectional */
		return 0;
	}
	if (pdu->data_len && (!(flags & ISCSI_CMD_WRITE) || !c->params.immediate_data ||
			      pdu->data_len > get_be32(h + 20) ||
			      pdu->data_len > c->params.first_burst)) {
		tx_reject(c, h, ISCSI_REJECT_PROTOCOL);
		return 0;
	}
	if ((flags & ISCSI_CMD_WRITE) && !(flags & ISCSI_FLAG_FINAL) && c->params.initial_r2t) {
		tx_reject(c, h, ISCSI_REJECT_PROTOCOL);
		return 0;
	}
	if (task_find(c, get_be32(h + BHS_ITT))) {
		tx_reject(c, h, ISCSI_REJECT_TASK_IN_PROGRESS);
		return 0;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->conn = c;
	t->itt = get_be32(h + BHS_ITT);
	t->cmdsn = get_be32(h + BHS_CMDSN);
	memcpy(t->lun, h + BHS_LUN, 8);
	memcpy(t->st.cdb, h + BHS_CDB, 16);
	t->edtl = get_be32(h + 20);
	t->reading = !!(flags & ISCSI_CMD_READ);
	t->writing = !!(flags & ISCSI_CMD_WRITE);
	t->next = c->tasks;
	if (c->tasks)
		c->tasks->prev = t;
	c->tasks = t;
	c->ntasks++;
	if (!t->writing || t->edtl == 0) {
		task_exec(c, t);
		return 0;
	}
	if (t->edtl > MAX_WRITE_BUFFER) {
		t->discard = 1;
	} else {
		int rc = wbuf_alloc(c, t);

		if (rc == -ENOMEM) {
			task_unlink(c, t);
			free(t);
			return rc;
		}
		if (rc == -ENOBUFS) {
			/* its Data-Out, if any comes, finds no task and is dropped */
			c->srv->wbuf_full++;
			log_limited(&rl_cmd, LOG_WARNING, "%s: write buffers full (%llu bytes here, "
				    "%llu in all): TASK SET FULL", c->peer,
				    (unsigned long long)c->wbuf,
				    (unsigned long long)c->srv->wbuf_total);
			t->executing = 1;
			t->st.priv = t;
			t->st.status = SAM_STAT_TASK_SET_FULL;
			task_done(&t->st);
			return 0;
		}
		memcpy(t->buf, pdu->data, pdu->data_len);
	}
	t->got = pdu->data_len;
	t->unsol_pending = !(flags & ISCSI_FLAG_FINAL);
	if (t->unsol_pending)
		return 0;
	return write_progress(c, t);
}

static int data_out(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *h = pdu->bhs;
	uint32_t ttt = get_be32(h + BHS_TTT), sn = get_be32(h + 36), off = get_be32(h + 40);
	struct iscsi_task *t = task_find(c, get_be32(h + BHS_ITT));
	int unsol = ttt == ISCSI_RESERVED_TAG;

	if (!t || t->executing) {
		/* data for a task aborted or already complete: nothing to do with it */
		return 0;
	}
	if (unsol ? !t->unsol_pending : ttt != t->ttt) {
		tx_reject(c, h, ISCSI_REJECT_INVALID_FIELD);
		return 0;
	}
	if (sn != t->exp_datasn || off != t->got || pdu->data_len > t->edtl - t->got ||
	    (unsol && off + pdu->data_len > c->params.first_burst) ||
	    (!unsol && off + pdu->data_len > t->burst_end)) {
		/* Rejected and dropped: the task waits for data that never comes until the
		 * initiator aborts it or the connection ends (no recovery at ERL 0). */
		log_limited(&rl_cmd, LOG_WARNING, "%s: Data-Out out of sequence (DataSN %u, "
			    "offset %u)", c->peer, sn, off);
		tx_reject(c, h, ISCSI_REJECT_PROTOCOL);
		return 0;
	}
	if (t->buf)
		memcpy(t->buf + off, pdu->data, pdu->data_len);
	t->got += pdu->data_len;
	t->exp_datasn++;
	if (!(h[1] & ISCSI_FLAG_FINAL))
		return 0;
	if (unsol) {
		t->unsol_pending = 0;
		t->exp_datasn = 0;
	} else if (t->got != t->burst_end) {
		tx_reject(c, h, ISCSI_REJECT_PROTOCOL);
		return -EPROTO;
	}
	return write_progress(c, t);
}

static void abort_task(struct iscsi_conn *c, struct iscsi_task *t, struct iscsi_tmf *tmf)
{
	if (t->aborted)
		return;
	if (!t->executing) {
		task_unlink(c, t);
		cmd_task_free(t);
		return;
	}
	t->aborted = 1;
	if (tmf) {
		t->tmf = tmf;
		tmf->waiting++;
	}
}

void cmd_abort_all(struct iscsi_conn *c)
{
	struct iscsi_task *t = c->tasks, *next;

	for (; t; t = next) {
		next = t->next;
		abort_task(c, t, NULL);
	}
}

static int tmf(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *h = pdu->bhs;
	uint8_t func = h[1] & 0x7f;
	uint64_t lun = scsi_lun_decode(h + BHS_LUN);
	struct scsi_target *tg = &c->target->scsi;
	struct scsi_lu *lu = lun < tg->nlu ? tg->lu[lun] : NULL;
	struct iscsi_task *t, *next;
	struct iscsi_tmf *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->itt = get_be32(h + BHS_ITT);
	m->response = ISCSI_TMF_RSP_COMPLETE;
	switch (func) {
	case ISCSI_TMF_ABORT_TASK:
		t = task_find(c, get_be32(h + 20));
		/* not found: it completed and its response is on the way */
		if (t)
			abort_task(c, t, m);
		else
			m->response = ISCSI_TMF_RSP_NO_TASK;
		break;
	case ISCSI_TMF_ABORT_TASK_SET:
	case ISCSI_TMF_CLEAR_TASK_SET:
	case ISCSI_TMF_LUN_RESET:
		if (!lu) {
			m->response = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		for (t = c->tasks; t; t = next) {
			next = t->next;
			if (memcmp(t->lun, h + BHS_LUN, 8) == 0)
				abort_task(c, t, m);
		}
		if (func == ISCSI_TMF_LUN_RESET)
			scsi_lu_reset(lu);
		break;
	case ISCSI_TMF_TARGET_WARM_RESET:
	case ISCSI_TMF_TARGET_COLD_RESET:
		for (t = c->tasks; t; t = next) {
			next = t->next;
			abort_task(c, t, m);
		}
		for (unsigned i = 0; i < tg->nlu; i++)
			if (tg->lu[i])
				scsi_lu_reset(tg->lu[i]);
		m->cold = func == ISCSI_TMF_TARGET_COLD_RESET;
		break;
	case ISCSI_TMF_TASK_REASSIGN:
		m->response = ISCSI_TMF_RSP_NO_REASSIGN;
		break;
	case ISCSI_TMF_CLEAR_ACA:
		m->response = ISCSI_TMF_RSP_NOT_SUPPORTED;
		break;
	default:
		m->response = ISCSI_TMF_RSP_REJECTED;
		break;
	}
	if (m->waiting == 0)
		tmf_respond(c, m);
	return 0;
}

static int nop_out(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *h = pdu->bhs;
	uint32_t itt = get_be32(h + BHS_ITT), ttt = get_be32(h + BHS_TTT);
	struct tx_pdu *p;
	uint8_t *echo = NULL;

	if (ttt != ISCSI_RESERVED_TAG) {	/* the answer to our NOP-In */
		if (ttt == c->nop_ttt)
			c->nop_pending = 0;
		if (c->probed && ttt == c->probe_ttt)
			c->probe_answered = 1;
		return 0;
	}
	if (itt == ISCSI_RESERVED_TAG)		/* a ping that wants no answer */
		return 0;
	p = tx_new(c, ISCSI_OP_NOP_IN);
	if (!p)
		return -ENOMEM;
	if (pdu->data_len) {
		uint32_t n = pdu->data_len < c->params.max_recv_dsl ? pdu->data_len
								    : c->params.max_recv_dsl;

		echo = malloc(n);
		if (!echo) {
			free(p);
			return -ENOMEM;
		}
		memcpy(echo, pdu->data, n);
		p->own = echo;
		p->data = echo;
		p->dlen = n;
	}
	p->hdr[1] = ISCSI_FLAG_FINAL;
	memcpy(p->hdr + BHS_LUN, h + BHS_LUN, 8);
	put_be32(p->hdr + BHS_ITT, itt);
	put_be32(p->hdr + BHS_TTT, ISCSI_RESERVED_TAG);
	tx_stamp_sn(c, p, 1);
	tx_queue(c, p);
	return 0;
}

static int logout(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	c->logout_pending = 1;
	c->logout_itt = get_be32(pdu->bhs + BHS_ITT);
	logout_check(c);
	return 0;
}

/* CmdSN rules (RFC 7143 4.2.2.1): a non-immediate PDU is taken at ExpCmdSN while the window
 * we announced is open (tx_max_cmdsn), else dropped silently: an initiator that ignores
 * MaxCmdSN gets no more tasks, and no more memory, than one that keeps to it. Immediate PDUs
 * do not advance it but count: past ISCSI_IMMEDIATE_MAX more tasks they are rejected. One
 * connection per session means no gaps. */
static int cmdsn_accept(struct iscsi_conn *c, const uint8_t *h)
{
	uint32_t sn = get_be32(h + BHS_CMDSN);

	if (h[0] & ISCSI_IMMEDIATE) {
		if (c->ntasks < ISCSI_QUEUE_DEPTH + ISCSI_IMMEDIATE_MAX)
			return 1;
		log_limited(&rl_cmd, LOG_WARNING, "%s: too many immediate commands (%u tasks): "
			    "rejected", c->peer, c->ntasks);
		tx_reject(c, h, ISCSI_REJECT_IMMEDIATE);
		return 0;
	}
	if (sn == c->exp_cmdsn && c->ntasks < ISCSI_QUEUE_DEPTH) {
		c->exp_cmdsn++;
		return 1;
	}
	log_limited(&rl_cmd, LOG_WARNING, "%s: CmdSN %u outside the window [%u, %u]: dropped",
		    c->peer, sn, c->exp_cmdsn, tx_max_cmdsn(c));
	return 0;
}

int cmd_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *h = pdu->bhs;
	uint8_t op = pdu_opcode(pdu);

	if (pdu->data_digest_bad) {
		tx_reject(c, h, ISCSI_REJECT_DIGEST);
		return 0;
	}
	if (c->logout_pending) {
		tx_reject(c, h, ISCSI_REJECT_WAITING_LOGOUT);
		return 0;
	}
	switch (op) {
	case ISCSI_OP_DATA_OUT:
		if (c->discovery)
			break;
		return data_out(c, pdu);
	case ISCSI_OP_NOP_OUT:
		if (get_be32(h + BHS_TTT) != ISCSI_RESERVED_TAG)
			return nop_out(c, pdu);		/* carries no new CmdSN */
		if (!cmdsn_accept(c, h))
			return 0;
		return nop_out(c, pdu);
	case ISCSI_OP_SCSI_CMD:
		if (c->discovery)
			break;
		if (!cmdsn_accept(c, h))
			return 0;
		return scsi_command(c, pdu);
	case ISCSI_OP_TMF_REQ:
		if (c->discovery)
			break;
		if (!cmdsn_accept(c, h))
			return 0;
		return tmf(c, pdu);
	case ISCSI_OP_TEXT_REQ:
		if (!cmdsn_accept(c, h))
			return 0;
		return text_pdu(c, pdu);
	case ISCSI_OP_LOGOUT_REQ:
		if (!cmdsn_accept(c, h))
			return 0;
		return logout(c, pdu);
	case ISCSI_OP_SNACK:
		/* ErrorRecoveryLevel 0: nothing to retransmit from */
		tx_reject(c, h, ISCSI_REJECT_SNACK);
		return 0;
	default:
		tx_reject(c, h, ISCSI_REJECT_UNSUPPORTED);
		return 0;
	}
	tx_reject(c, h, ISCSI_REJECT_PROTOCOL);
	return 0;
}
