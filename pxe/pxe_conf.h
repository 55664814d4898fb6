/* pxed's configuration file (-c FILE): the key table, its defaults and the checks that span
 * several keys. pxe/pxed.conf.example documents every key. */
#ifndef PXE_PXE_CONF_H
#define PXE_PXE_CONF_H

#include <net/if.h>
#include <stdint.h>

#define PXE_PATH_MAX   256
#define PXE_NAME_MAX   64
#define PXE_MAX_DNS    4
/* The lease table is sized from this, never from anything a client says. */
#define PXE_POOL_MAX   4096

enum pxe_mode { PXE_MODE_DHCP = 0, PXE_MODE_PROXY = 1 };

struct pxe_pool {
	uint32_t first, last;		/* host byte order, first <= last */
};

struct pxe_dns {
	uint32_t addr[PXE_MAX_DNS];
	unsigned n;
};

struct pxe_conf {
	char interface[IF_NAMESIZE];
	int mode;			/* enum pxe_mode */
	struct pxe_pool pool;
	uint32_t subnet_mask;
	uint32_t router;		/* 0: none */
	struct pxe_dns dns;
	int lease_time;			/* seconds */
	int offer_time;			/* seconds an offered address is held */
	int decline_time;		/* seconds a declined address is left alone */
	uint32_t service_address;	/* where clients boot from (TFTP, iSCSI) */
	uint32_t server_address;	/* our DHCP server identifier; 0: the interface's */
	char tftp_root[PXE_PATH_MAX];
	int tftp;			/* run in.tftpd */
	char tftpd[PXE_PATH_MAX];
	char tftp_user[PXE_NAME_MAX];
	char user[PXE_NAME_MAX];	/* who pxed becomes once its sockets are open; "" = root */
	char ipxe_dir[PXE_PATH_MAX];
	char bios_file[PXE_NAME_MAX];
	char efi_file[PXE_NAME_MAX];
	char state_dir[PXE_PATH_MAX];
	char ctl_socket[PXE_PATH_MAX];
	char vdiskd_ctl[PXE_PATH_MAX];
	char standbyd_ctl[PXE_PATH_MAX];
	char node[PXE_NAME_MAX];	/* this server's name in the DB; "" = no redirection */
	int router_advert;		/* answer IPv6 router solicitations (see pxe/ra.h) */
	int http_port;			/* iPXE scripts over HTTP on service_address */
};

/* Reads path into *c (defaults first). Returns 0, or a negative errno with "FILE:LINE: why"
 * (or "FILE: why" for checks spanning keys) in err. */
int pxe_conf_load(const char *path, struct pxe_conf *c, char *err, size_t errlen);

#endif
