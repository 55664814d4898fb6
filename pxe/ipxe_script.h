/* The per-client iPXE script, and the TFTP root the iPXE builds live in.
 *
 * The script holds the client's CHAP secrets, so it is never a file: pxed renders it from
 * the DB when the client asks for it over HTTP (pxe/http_scripts.h), at the URL its DHCP
 * answer names, http://SERVICE:PORT/ipxe/<mac>.ipxe (MAC with '-': iPXE would read "aa:" as
 * a URI scheme). It sets the initiator IQN and the CHAP credentials from the client record
 * and sanboots the target at the service address. */
#ifndef PXE_IPXE_SCRIPT_H
#define PXE_IPXE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define IPXE_URL_MAX         128	/* fits the DHCP file field (128 bytes with its NUL) */
#define IPXE_SCRIPT_MAX      2048
#define IPXE_DEFAULT_TARGET  "iqn.2026-11.lan.vdisk:disk"
#define IPXE_PATH_PREFIX     "/ipxe/"
/* "/ipxe/" + "aa-bb-cc-dd-ee-ff" + ".ipxe" */
#define IPXE_PATH_LEN        (sizeof(IPXE_PATH_PREFIX) - 1 + 17 + 5)

/* The URL a client's DHCP answer names. Returns its length or -ENAMETOOLONG. */
int ipxe_script_url(char *out, size_t len, uint32_t service_addr, unsigned port,
		    const uint8_t mac[6]);
/* Reads the MAC out of a request path "/ipxe/aa-bb-cc-dd-ee-ff.ipxe" (lower-case hex,
 * nothing more, nothing less; untrusted). Returns 0 or -EINVAL. */
int ipxe_script_path_parse(const char *path, uint8_t mac[6]);

/* Renders c's script: initiator IQN, CHAP (`username` = c->iqn, `password` = its
 * chap_secret; with mutual set, `reverse-username` = target_iqn and `reverse-password` =
 * its chap_target_secret), then the sanboot. Every value that goes into a script line is
 * checked first (IQNs [a-z0-9.:-], secrets [A-Za-z0-9]{16}, name [A-Za-z0-9_-]): -EINVAL
 * when one is not, -ENOSPC if the script would not fit len; else its length. */
int ipxe_script_render(const struct db_client *c, uint32_t service_addr, const char *target_iqn,
		       int mutual, char *out, size_t len);
/* Whether an IQN is safe to put in a script line. */
int ipxe_iqn_valid(const char *s);

/* Makes root and copies each named iPXE build from ipxe_dir into it (atomically, only when
 * missing or different in size). Removes the clients/ folder earlier versions wrote scripts
 * to. Returns 0 or a negative errno, with the failing path in err. A missing source file is
 * an error. */
int tftp_root_prepare(const char *root, const char *ipxe_dir, const char *const *files,
		      char *err, size_t errlen);

#endif
