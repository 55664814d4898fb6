/* The per-client iPXE script and the TFTP root it lives in. iPXE fetches
 * clients/<mac>.ipxe (MAC with '-': a ':' in a file name reads as a URI scheme to iPXE), which
 * sets the initiator IQN from the client record so vdiskd knows whose overlay a login is, and
 * sanboots the target at the service address. */
#ifndef PXE_IPXE_SCRIPT_H
#define PXE_IPXE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define IPXE_SCRIPT_NAME_MAX 40		/* "clients/aa-bb-cc-dd-ee-ff.ipxe" + NUL */
#define IPXE_SCRIPT_MAX      2048
#define IPXE_DEFAULT_TARGET  "iqn.2026-11.lan.vdisk:disk"

/* The script's path relative to the TFTP root. */
void ipxe_script_name(const uint8_t mac[6], char out[IPXE_SCRIPT_NAME_MAX]);
/* Renders the script; returns its length, or -ENOSPC if it would not fit len. */
int ipxe_script_render(const struct db_client *c, uint32_t service_addr, const char *target_iqn,
		       char *out, size_t len);
/* Whether a target IQN (DB setting target_iqn) is safe to put in a script line. */
int ipxe_iqn_valid(const char *s);
/* Writes root/name atomically (temporary file, then rename), readable by in.tftpd's user.
 * Returns 0 or a negative errno. */
int ipxe_script_write(const char *root, const char *name, const char *text, size_t len);

/* Makes root and root/clients, and copies each named iPXE build from ipxe_dir into root
 * (atomically, only when missing or different in size). Returns 0 or a negative errno, with
 * the failing path in err. A missing source file is an error. */
int tftp_root_prepare(const char *root, const char *ipxe_dir, const char *const *files,
		      char *err, size_t errlen);

#endif
