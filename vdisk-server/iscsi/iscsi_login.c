/* Login phase (RFC 7143 6.3, 11.12-11.13): security negotiation with CHAP, operational key
 * negotiation, and the final response that opens a session; the wait an address that failed
 * authentication serves; Text requests (SendTargets). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vdisk-server/iscsi/iscsi_tx.h"

enum { AUTH_NONE_YET = 0, AUTH_NONE, AUTH_CHAP };
enum { CHAP_WAIT_A = 1, CHAP_WAIT_R, CHAP_DONE };

static struct log_ratelimit rl_login = LOG_RATELIMIT_INIT(10);

static void login_respond(struct iscsi_conn *c, const uint8_t *req, uint8_t flags,
			  uint16_t status, struct iscsi_text_out *text, int defer)
{
	struct tx_pdu *p = tx_new(c, ISCSI_OP_LOGIN_RSP);

	if (!p)
		return;
	p->hdr[1] = flags;
	p->hdr[2] = 0;	/* version max */
	p->hdr[3] = 0;	/* version active */
	memcpy(p->hdr + 8, req + 8, 6);		/* ISID */
	put_be16(p->hdr + 14, c->tsih);
	memcpy(p->hdr + 16, req + 16, 4);	/* ITT */
	tx_stamp_sn(c, p, 1);
	p->hdr[36] = (uint8_t)(status >> 8);
	p->hdr[37] = (uint8_t)status;
	if (text && text->len && !status) {
		p->own = text->buf;	/* the PDU takes the buffer */
		p->data = (uint8_t *)text->buf;
		p->dlen = (uint32_t)text->len;
		text->buf = NULL;
	}
	if (status)
		p->close_after = 1;
	if (defer) {
		/* sent when the sessions this one reinstates have no command left in the store */
		c->deferred_login = p;
		c->rx_stopped = 1;
		return;
	}
	tx_queue(c, p);
}

static int login_fail(struct iscsi_conn *c, const uint8_t *req, uint16_t status,
		      const char *why)
{
	c->srv->stats.login_failures++;
	log_limited(&rl_login, LOG_NOTICE, "%s: login refused (0x%04x) for '%s': %s", c->peer,
		    status, c->initiator[0] ? c->initiator : "?", why);
	login_respond(c, req, 0, status, NULL, 0);
	/* no more input: the refusal is the last PDU on this connection */
	c->rx_stopped = 1;
	return 0;
}

static const char *kv_get(const struct iscsi_kv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static int attach(struct iscsi_conn *c)
{
	int rc = c->srv->prov.attach(c->srv->prov.arg, c->initiator, c->tname, c->addr,
				     &c->target);

	if (rc == 0)
		c->target->sessions++;
	return rc;
}

/* First PDU of the login: who is it, which session type and target. */
static int login_start(struct iscsi_conn *c, const uint8_t *req, struct iscsi_kv *kv, int n)
{
	const char *ini = kv_get(kv, n, "InitiatorName");
	const char *type = kv_get(kv, n, "SessionType");
	const char *tname = kv_get(kv, n, "TargetName");
	const char *alias = kv_get(kv, n, "InitiatorAlias");
	int rc;

	if (!ini || !*ini || strlen(ini) >= ISCSI_NAME_MAX)
		return -ISCSI_LOGIN_MISSING_PARAM;
	snprintf(c->initiator, sizeof(c->initiator), "%s", ini);
	if (alias)
		snprintf(c->alias, sizeof(c->alias), "%s", alias);
	if (type && strcmp(type, "Discovery") == 0) {
		c->discovery = 1;
	} else if (type && strcmp(type, "Normal") != 0) {
		return -ISCSI_LOGIN_UNSUPPORTED_TYPE;
	} else {
		if (!tname || !*tname || strlen(tname) >= sizeof(c->tname))
			return -ISCSI_LOGIN_MISSING_PARAM;
		snprintf(c->tname, sizeof(c->tname), "%s", tname);
		if (c->srv->prov.credentials) {
			rc = c->srv->prov.credentials(c->srv->prov.arg, c->initiator, tname,
						      c->addr, &c->auth, &c->auth_mutual);
			if (rc < 0)
				return rc;
		} else {
			rc = attach(c);
			if (rc < 0)
				return rc;
			c->auth = c->target->chap;
			c->auth_mutual = c->target->mutual;
		}
	}
	memcpy(c->isid, req + 8, 6);
	c->cid = get_be16(req + 20);
	c->login_itt = get_be32(req + BHS_ITT);
	c->exp_cmdsn = get_be32(req + BHS_CMDSN);
	c->stat_sn = get_be32(req + BHS_EXPSTATSN);
	c->login_started = 1;
	c->csg = ISCSI_LOGIN_CSG(req[1]);
	return 0;
}

/* CHAP exchange in the security stage; returns 0 or a negative login status. */
static int login_chap(struct iscsi_conn *c, struct iscsi_kv *kv, int n,
		      struct iscsi_text_out *out)
{
	const char *a = kv_get(kv, n, "CHAP_A"), *name, *resp, *ci, *cc;
	char hex[2 * CHAP_MAX_BINARY + 3];
	uint8_t chal[CHAP_MAX_BINARY];
	size_t clen;
	uint32_t id;
	int alg;

	if (c->chap_step == CHAP_WAIT_A) {
		if (!a)
			return 0;	/* AuthMethod agreed in this PDU: CHAP_A comes next */
		if (chap_pick_alg(a, &alg) < 0) {
			iscsi_text_add(out, "CHAP_A", "Reject");
			return -ISCSI_LOGIN_AUTH_FAILED;
		}
		if (chap_new_challenge(&c->chap, alg) < 0)
			return -ISCSI_LOGIN_TARGET_ERROR;
		chap_hex(c->chap.challenge, CHAP_CHALLENGE_LEN, hex, sizeof(hex));
		iscsi_text_add(out, "CHAP_A", "%d", alg);
		iscsi_text_add(out, "CHAP_I", "%u", c->chap.id);
		iscsi_text_add(out, "CHAP_C", "%s", hex);
		c->chap_step = CHAP_WAIT_R;
		return 0;
	}
	if (c->chap_step != CHAP_WAIT_R)
		return 0;
	name = kv_get(kv, n, "CHAP_N");
	resp = kv_get(kv, n, "CHAP_R");
	if (!name || !resp)
		return -ISCSI_LOGIN_AUTH_FAILED;
	if (strcmp(name, c->auth.user) != 0 || chap_verify(&c->chap, c->auth.secret, resp) < 0)
		return -ISCSI_LOGIN_AUTH_FAILED;
	ci = kv_get(kv, n, "CHAP_I");
	cc = kv_get(kv, n, "CHAP_C");
	if (ci || cc) {		/* the initiator wants the target to prove itself */
		if (!ci || !cc || !c->auth_mutual.user[0])
			return -ISCSI_LOGIN_AUTH_FAILED;
		if (iscsi_parse_u32(ci, &id) < 0 || id > 255 ||
		    chap_decode(cc, chal, sizeof(chal), &clen) < 0 || clen < 8)
			return -ISCSI_LOGIN_AUTH_FAILED;
		/* a reflected challenge would let an attacker use us as an oracle */
		if (clen == CHAP_CHALLENGE_LEN && memcmp(chal, c->chap.challenge, clen) == 0)
			return -ISCSI_LOGIN_AUTH_FAILED;
		if (chap_answer(c->chap.alg, (uint8_t)id, c->auth_mutual.secret, chal, clen, hex,
				sizeof(hex)) < 0)
			return -ISCSI_LOGIN_TARGET_ERROR;
		iscsi_text_add(out, "CHAP_N", "%s", c->auth_mutual.user);
		iscsi_text_add(out, "CHAP_R", "%s", hex);
	} else if (c->auth_mutual.user[0] && !c->srv->prov.mutual_optional) {
		return -ISCSI_LOGIN_AUTH_FAILED;	/* we require mutual CHAP */
	}
	c->chap_step = CHAP_DONE;
	return 0;
}

static int auth_required(struct iscsi_conn *c)
{
	return c->auth.user[0] != '\0';
}

/* Keys of one login PDU; returns 0 or a negative login status. */
static int login_keys(struct iscsi_conn *c, struct iscsi_kv *kv, int n,
		      struct iscsi_text_out *out)
{
	for (int i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].value;

		if (strcmp(k, "InitiatorName") == 0 || strcmp(k, "InitiatorAlias") == 0 ||
		    strcmp(k, "TargetName") == 0 || strcmp(k, "SessionType") == 0 ||
		    strncmp(k, "CHAP_", 5) == 0)
			continue;
		if (strcmp(k, "AuthMethod") == 0) {
			int want_chap = auth_required(c), chap = 0, none = 0;
			const char *p = v;

			while (*p) {
				size_t l = strcspn(p, ",");

				if (l == 4 && strncmp(p, "CHAP", 4) == 0)
					chap = 1;
				if (l == 4 && strncmp(p, "None", 4) == 0)
					none = 1;
				p += l;
				if (*p)
					p++;
			}
			if (want_chap && chap) {
				c->auth_method = AUTH_CHAP;
				c->chap_step = CHAP_WAIT_A;
				iscsi_text_add(out, k, "CHAP");
			} else if (!want_chap && none) {
				c->auth_method = AUTH_NONE;
				iscsi_text_add(out, k, "None");
			} else {
				iscsi_text_add(out, k, "Reject");
				return -ISCSI_LOGIN_AUTH_FAILED;
			}
			continue;
		}
		if (c->csg == ISCSI_STAGE_SECURITY && c->auth_method == AUTH_NONE_YET &&
		    auth_required(c))
			continue;	/* nothing but authentication before CHAP is agreed */
		if (iscsi_negotiate_key(&c->params, &c->srv->ours, k, v, out)) {
			if (strcmp(k, "MaxRecvDataSegmentLength") == 0)
				c->mrdsl_declared = 1;
			continue;
		}
		if (strcmp(k, "TargetAlias") == 0 || strcmp(k, "TargetAddress") == 0 ||
		    strcmp(k, "TargetPortalGroupTag") == 0)
			return -ISCSI_LOGIN_INITIATOR_ERROR;	/* target-only keys */
		iscsi_text_add(out, k, "NotUnderstood");
	}
	if (c->auth_method == AUTH_CHAP)
		return login_chap(c, kv, n, out);
	return 0;
}

/* The final login response: the session starts. */
static void login_complete(struct iscsi_conn *c)
{
	struct iscsi_server *srv = c->srv;

	if (c->params.first_burst > c->params.max_burst)
		c->params.first_burst = c->params.max_burst;
	c->tsih = srv->next_tsih++;
	if (srv->next_tsih == 0)
		srv->next_tsih = 1;
	c->nexus.id = srv->next_nexus++;
	snprintf(c->nexus.port, sizeof(c->nexus.port), "%s,i,0x%02x%02x%02x%02x%02x%02x",
		 c->initiator, c->isid[0], c->isid[1], c->isid[2], c->isid[3], c->isid[4],
		 c->isid[5]);
	/* Session reinstatement (RFC 7143 6.3.5): the same initiator port on the same target
	 * replaces its old session. Commands of the old one still in the store must land
	 * before the new session runs any: an initiator that timed out and resends a write
	 * would otherwise see the stale one overwrite it. The final login response waits. */
	for (struct iscsi_conn *o = srv->conns; o; o = o->next) {
		if (o == c || o->discovery || c->discovery || o->target != c->target ||
		    o->state == CONN_LOGIN || strcmp(o->initiator, c->initiator) != 0 ||
		    memcmp(o->isid, c->isid, 6) != 0)
			continue;
		if (o->state == CONN_FULL)
			o->hooks->close(o, "session reinstated by a new login");
		if (o->ntasks && !o->reinstated_by) {
			o->reinstated_by = c;
			c->reinstate_wait++;
		}
	}
	srv->stats.logins++;
	log_info("%s: %s session for %s%s%s", c->peer, c->discovery ? "discovery" : "normal",
		 c->initiator, c->target ? " on " : "", c->target ? c->target->name : "");
}

/* The addresses that failed authentication (srv->penalties) are recorded here, where the
 * failure is seen; iscsi_conn.c asks login_penalized when the next connection comes. */
static struct auth_penalty *penalty_of(struct iscsi_server *srv, uint32_t addr)
{
	for (unsigned i = 0; i < ISCSI_PENALTIES; i++)
		if (srv->penalties[i].addr == addr && srv->penalties[i].failures)
			return &srv->penalties[i];
	return NULL;
}

int login_penalized(struct iscsi_server *srv, uint32_t addr)
{
	struct auth_penalty *p = penalty_of(srv, addr);

	return p && ev_now_ms() < p->until_ms;
}

void iscsi_server_penalize(struct iscsi_server *srv, uint32_t addr)
{
	struct auth_penalty *p = penalty_of(srv, addr), *oldest = &srv->penalties[0];
	uint64_t now = ev_now_ms(), ms;

	if (iscsi_loopback(addr))
		return;
	for (unsigned i = 0; !p && i < ISCSI_PENALTIES; i++)
		if (srv->penalties[i].until_ms < oldest->until_ms)
			oldest = &srv->penalties[i];
	if (!p) {
		p = oldest;	/* the one whose wait ended first: forgotten */
		*p = (struct auth_penalty){ .addr = addr };
	}
	if (p->failures < 16)
		p->failures++;
	ms = 100ull << (p->failures - 1);
	p->until_ms = now + (ms < ISCSI_PENALTY_MAX_MS ? ms : ISCSI_PENALTY_MAX_MS);
}

int login_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *req = pdu->bhs;
	struct iscsi_kv kv[ISCSI_MAX_KEYS];
	struct iscsi_text_out out = { 0 };
	uint8_t flags = req[1], rflags;
	int transit = flags & ISCSI_LOGIN_TRANSIT, cont = flags & ISCSI_LOGIN_CONTINUE;
	int csg = ISCSI_LOGIN_CSG(flags), nsg = ISCSI_LOGIN_NSG(flags), n, rc;
	int first = !c->login_started;
	char *grown;

	if (pdu_opcode(pdu) != ISCSI_OP_LOGIN_REQ) {
		/* anything else during login: reject the login, end the connection */
		return login_fail(c, req, ISCSI_LOGIN_INVALID_REQUEST, "non-login PDU during login");
	}
	if (pdu->data_digest_bad)
		return -EPROTO;
	if (req[3] > 0)		/* version-min: we speak version 0 only */
		return login_fail(c, req, ISCSI_LOGIN_UNSUPPORTED_VERSION, "version");
	if ((transit && cont) || csg == 2 || (transit && (nsg == 2 || nsg <= csg)))
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "bad stage transition");
	if (c->login_started && get_be32(req + BHS_ITT) != c->login_itt)
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "ITT changed");
	if (get_be16(req + 14) != 0) {
		/* adding a connection to a session: MaxConnections is 1 */
		return login_fail(c, req, ISCSI_LOGIN_NO_SESSION, "TSIH of a session we lack");
	}
	if (c->login_text_len + pdu->data_len > ISCSI_LOGIN_TEXT_MAX)
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "login text too long");
	grown = realloc(c->login_text, c->login_text_len + pdu->data_len + 1);
	if (!grown)
		return login_fail(c, req, ISCSI_LOGIN_NO_RESOURCES, "out of memory");
	c->login_text = grown;
	memcpy(c->login_text + c->login_text_len, pdu->data, pdu->data_len);
	c->login_text_len += pdu->data_len;
	if (cont) {
		/* more text follows: an empty answer asks for it */
		login_respond(c, req, (uint8_t)(csg << 2), 0, NULL, 0);
		return 0;
	}
	n = iscsi_text_parse(c->login_text, c->login_text_len, kv, ISCSI_MAX_KEYS);
	if (n < 0)
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "malformed keys");
	if (!c->login_started) {
		rc = login_start(c, req, kv, n);
		if (rc < 0)
			return login_fail(c, req, (uint16_t)-rc,
					  rc == -ISCSI_LOGIN_NOT_FOUND ? "no such target" :
					  rc == -ISCSI_LOGIN_FORBIDDEN ? "initiator not allowed" :
					  "bad first login request");
	} else if (csg != c->csg) {
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "stage changed");
	}
	if (iscsi_text_out_init(&out, ISCSI_LOGIN_MAX_DATA) < 0)
		return login_fail(c, req, ISCSI_LOGIN_NO_RESOURCES, "out of memory");
	if (first && !c->discovery) {
		/* first response of a leading connection names the portal group */
		static const char tpgt[] = "TargetPortalGroupTag";

		if (!kv_get(kv, n, tpgt))
			iscsi_text_add(&out, tpgt, "1");
	}
	rc = login_keys(c, kv, n, &out);
	free(c->login_text);
	c->login_text = NULL;
	c->login_text_len = 0;
	if (rc < 0) {
		iscsi_text_out_free(&out);
		if (rc == -ISCSI_LOGIN_AUTH_FAILED)
			iscsi_server_penalize(c->srv, c->addr);
		return login_fail(c, req, (uint16_t)-rc, rc == -ISCSI_LOGIN_AUTH_FAILED ?
				  "authentication failed" : "bad keys");
	}
	if (csg == ISCSI_STAGE_SECURITY && transit && c->auth_method == AUTH_NONE_YET) {
		/* no AuthMethod offered: fine only when we require none */
		if (auth_required(c)) {
			iscsi_text_out_free(&out);
			return login_fail(c, req, ISCSI_LOGIN_AUTH_FAILED,
					  "left security stage unauthenticated");
		}
		c->auth_method = AUTH_NONE;
	}
	if (csg == ISCSI_STAGE_OPERATIONAL && auth_required(c) && c->chap_step != CHAP_DONE) {
		iscsi_text_out_free(&out);
		return login_fail(c, req, ISCSI_LOGIN_AUTH_FAILED, "skipped authentication");
	}
	/* authenticated (or nothing to pass): only now is the target opened */
	if (!c->discovery && !c->target &&
	    (auth_required(c) ? c->chap_step == CHAP_DONE : 1)) {
		rc = attach(c);
		if (rc < 0) {
			iscsi_text_out_free(&out);
			return login_fail(c, req, (uint16_t)-rc, rc == -ISCSI_LOGIN_NOT_FOUND ?
					  "no such target" : "refused by the target");
		}
	}
	if (out.overflow) {
		iscsi_text_out_free(&out);
		return login_fail(c, req, ISCSI_LOGIN_INITIATOR_ERROR, "answer too long");
	}
	rflags = (uint8_t)(csg << 2);
	if (transit) {
		/* CHAP still running: stay in the security stage */
		if (c->auth_method == AUTH_CHAP && c->chap_step != CHAP_DONE) {
			transit = 0;
		} else {
			rflags |= (uint8_t)(ISCSI_LOGIN_TRANSIT | nsg);
			c->csg = nsg;
		}
	}
	if (transit && nsg == ISCSI_STAGE_FULL) {
		/* our receive limit is declarative: always tell it */
		if (!c->mrdsl_declared)
			iscsi_text_add(&out, "MaxRecvDataSegmentLength", "%u",
				       c->srv->ours.max_recv_dsl);
		login_complete(c);
	}
	login_respond(c, req, rflags, 0, &out, c->reinstate_wait > 0);
	iscsi_text_out_free(&out);
	if (transit && nsg == ISCSI_STAGE_FULL) {
		c->state = CONN_FULL;
		if (c->srv->nop_interval_ms)	/* the login phase's time limit no more */
			ev_timer_arm(c->srv->loop, &c->nop_timer, c->srv->nop_interval_ms);
		if (iscsi_rx_set_max_data(&c->rx, c->srv->ours.max_recv_dsl) < 0)
			return -ENOMEM;
		/* digests apply from the first PDU after the final login response */
		c->rx.header_digest = c->params.header_digest;
		c->rx.data_digest = c->params.data_digest;
	}
	return 0;
}

/* The session ended: its LUs drop what the nexus held (RESERVE(6)) and the provider gets
 * its target back. */
void login_fini(struct iscsi_conn *c)
{
	if (c->target) {
		for (unsigned i = 0; i < c->target->scsi.nlu; i++)
			if (c->target->scsi.lu[i])
				scsi_nexus_gone(c->target->scsi.lu[i], &c->nexus);
		c->target->sessions--;
		if (c->srv->prov.detach)
			c->srv->prov.detach(c->srv->prov.arg, c->target);
		c->target = NULL;
	}
}

struct st_ctx {
	struct iscsi_conn *c;
	struct iscsi_text_out *out;
};

static void emit_target(void *arg, const char *name)
{
	struct st_ctx *ctx = arg;

	iscsi_text_add(ctx->out, "TargetName", "%s", name);
	iscsi_text_add(ctx->out, "TargetAddress", "%s", ctx->c->srv->portal);
}

int text_pdu(struct iscsi_conn *c, struct iscsi_pdu *pdu)
{
	const uint8_t *req = pdu->bhs;
	struct iscsi_kv kv[ISCSI_MAX_KEYS];
	struct iscsi_text_out out;
	struct tx_pdu *p;
	char *text;
	int n;

	if (req[1] & ISCSI_LOGIN_CONTINUE) {	/* multi-PDU text requests: not offered */
		tx_reject(c, req, ISCSI_REJECT_UNSUPPORTED);
		return 0;
	}
	text = malloc(pdu->data_len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, pdu->data, pdu->data_len);
	n = iscsi_text_parse(text, pdu->data_len, kv, ISCSI_MAX_KEYS);
	if (n < 0) {
		free(text);
		tx_reject(c, req, ISCSI_REJECT_PROTOCOL);
		return 0;
	}
	if (iscsi_text_out_init(&out, c->params.max_recv_dsl) < 0) {
		free(text);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct st_ctx ctx = { c, &out };

		if (strcmp(kv[i].key, "SendTargets") == 0) {
			const char *v = kv[i].value;

			if (strcmp(v, "All") == 0 && !c->discovery)
				v = c->target->name;	/* normal sessions see their own target */
			c->srv->prov.discover(c->srv->prov.arg, c->initiator,
					      strcmp(v, "All") == 0 ? NULL : v, emit_target, &ctx);
		} else if (!iscsi_negotiate_key(&c->params, &c->srv->ours, kv[i].key, kv[i].value,
					       &out)) {
			iscsi_text_add(&out, kv[i].key, "NotUnderstood");
		}
	}
	free(text);
	p = tx_new(c, ISCSI_OP_TEXT_RSP);
	if (!p) {
		iscsi_text_out_free(&out);
		return -ENOMEM;
	}
	p->hdr[1] = ISCSI_FLAG_FINAL;
	memcpy(p->hdr + 8, req + 8, 8);
	memcpy(p->hdr + 16, req + 16, 4);
	put_be32(p->hdr + BHS_TTT, ISCSI_RESERVED_TAG);
	tx_stamp_sn(c, p, 1);
	if (!out.overflow && out.len) {
		p->own = out.buf;
		p->data = (uint8_t *)out.buf;
		p->dlen = (uint32_t)out.len;
		out.buf = NULL;
	}
	iscsi_text_out_free(&out);
	tx_queue(c, p);
	return 0;
}
