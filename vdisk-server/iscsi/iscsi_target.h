/* iSCSI targets and the server that accepts connections for them. Which targets exist and who
 * may log in is decided by a provider (static --lun table, or the DB), behind iscsi_provider
 * so the login code does not care where targets come from. */
#ifndef VDISK_ISCSI_TARGET_H
#define VDISK_ISCSI_TARGET_H

#include <stdint.h>

#include "common/evloop.h"
#include "vdisk-server/iscsi/iscsi_chap.h"
#include "vdisk-server/iscsi/iscsi_keys.h"
#include "vdisk-server/scsi/scsi.h"

#define ISCSI_NAME_MAX 224	/* 223 bytes plus NUL (RFC 7143 4.2.7.1) */
#define ISCSI_CONNS_PER_ADDR 8	/* a PC: a session, a reconnect overlapping it, a boot loader's */
#define ISCSI_LOGIN_TIMEOUT_MS 15000	/* LIO's login timeout */
#define ISCSI_PENALTIES 64		/* addresses remembered for failed authentication */
#define ISCSI_PENALTY_MAX_MS 30000

struct iscsi_target {
	char name[ISCSI_NAME_MAX];
	struct scsi_target scsi;
	/* CHAP: required when chap.user is set; mutual when mutual.user is set too */
	struct chap_cred chap;
	struct chap_cred mutual;
	unsigned sessions;
	void *priv;		/* the provider's */
};

struct iscsi_provider {
	/* Optional: the CHAP credentials a login from initiator for target_name must pass
	 * (chap->user "": none), looked up without opening anything; 0 or a negative login
	 * status. With it, attach runs only once the login is authenticated, so an initiator
	 * without the secret makes the provider open nothing; without it, attach runs on the
	 * first login PDU and the target's own chap and mutual apply. */
	int (*credentials)(void *arg, const char *initiator, const char *target_name,
			   uint32_t addr, struct chap_cred *chap, struct chap_cred *mutual);
	/* A login from initiator at addr (IPv4, network order) for target_name: 0 and *out, or
	 * a negative login status (-ISCSI_LOGIN_NOT_FOUND, -ISCSI_LOGIN_FORBIDDEN...). */
	int (*attach)(void *arg, const char *initiator, const char *target_name, uint32_t addr,
		      struct iscsi_target **out);
	/* The session on tgt ended. */
	void (*detach)(void *arg, struct iscsi_target *tgt);
	/* SendTargets: calls emit for every target initiator may see (name NULL: all). */
	void (*discover)(void *arg, const char *initiator, const char *name,
			 void (*emit)(void *ctx, const char *target), void *ctx);
	void *arg;
	/* With credentials: a mutual CHAP answer is given when the initiator asks for it, not
	 * required (iPXE and the boot firmware of PCs may not ask). */
	int mutual_optional;
};

struct iscsi_conn;

struct iscsi_server_stats {
	uint64_t logins, login_failures, rejects, pdus_in, pdus_out, bytes_in, bytes_out;
	uint64_t commands;
};

struct iscsi_server {
	struct evloop *loop;
	int listen_fd;
	struct ev_io lio;
	struct iscsi_provider prov;
	struct iscsi_params ours;	/* what we offer and declare */
	char portal[80];		/* "ADDR:PORT,1" for SendTargets */
	struct iscsi_conn *conns;
	unsigned nconns, max_conns;
	/* Limits a hostile initiator meets (LIO's): connections from one address (0: none),
	 * and how long a connection may stay in the login phase. */
	unsigned max_conns_per_addr;
	unsigned login_timeout_ms;
	uint64_t refused_conns;
	uint32_t only_addr;		/* network order; not 0: connections from it alone */
	/* Initiators that failed authentication, by address: their next connections are
	 * refused for a time that doubles with each failure (30 s at most). */
	struct auth_penalty {
		uint32_t addr;
		unsigned failures;
		uint64_t until_ms;
	} penalties[ISCSI_PENALTIES];
	uint64_t wbuf_total;		/* write buffers of every connection, bytes */
	uint64_t wbuf_full;		/* commands answered TASK SET FULL for want of it */
	uint16_t next_tsih;
	uint64_t next_nexus;
	unsigned nop_interval_ms;	/* target NOP-In keepalive, 0 off */
	unsigned nop_timeout_ms;
	struct iscsi_server_stats stats;
};

/* Listens on addr:port (IPv4) with the provider's targets. */
int iscsi_server_open(struct iscsi_server *srv, struct evloop *loop, const char *addr,
		      uint16_t port, const struct iscsi_provider *prov);
/* Whether tgt's sessions are alive: ping_target sends a NOP-In on each of its connections
 * now; answered then says whether any of those connections sent anything since. */
void iscsi_server_ping_target(struct iscsi_server *srv, struct iscsi_target *tgt);
int iscsi_server_answered(struct iscsi_server *srv, struct iscsi_target *tgt);
/* A login from addr (network order) failed authentication: its next connections wait. */
void iscsi_server_penalize(struct iscsi_server *srv, uint32_t addr);
/* Drops every connection and closes the listener. */
void iscsi_server_close(struct iscsi_server *srv);
/* Drops every session on tgt (an overlay reset while a client is logged in). */
void iscsi_server_drop_target(struct iscsi_server *srv, struct iscsi_target *tgt);

#endif
