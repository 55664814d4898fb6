/* Standalone targets: `--lun IQN=FILE[,ro][,overlay=PATH]` entries grouped by IQN (several
 * entries with one IQN are LUNs 0, 1, ... of one target), served by a static provider. */
#ifndef VDISK_LUN_TABLE_H
#define VDISK_LUN_TABLE_H

#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/store/store.h"

struct lun_spec {
	char iqn[ISCSI_NAME_MAX];
	char path[4096];
	char overlay[4096];	/* "" for a raw export */
	int read_only;
};

struct lun_table {
	struct iscsi_target **targets;
	unsigned ntargets;
	struct store **stores;
	struct scsi_lu **lus;
	unsigned nlus;
	char **allowed;		/* --allow IQN: initiators that may log in (none: anyone) */
	unsigned nallowed;
	int secondary;		/* role secondary: logins refused */
};

/* Parses "IQN=FILE[,ro][,overlay=PATH]"; -EINVAL with *why set on a malformed spec. */
int lun_spec_parse(const char *arg, struct lun_spec *out, const char **why);
/* Opens every store and builds the targets; on failure names the bad entry in errbuf. */
int lun_table_open(struct lun_table *tb, struct store_pool *pool, const struct lun_spec *specs,
		   unsigned n, char *errbuf, size_t errlen);
void lun_table_close(struct lun_table *tb);
/* The provider that serves tb. */
void lun_table_provider(struct lun_table *tb, struct iscsi_provider *out);
/* Fills chap (and mutual) on every target. */
void lun_table_set_chap(struct lun_table *tb, const struct chap_cred *chap,
			const struct chap_cred *mutual);

/* A valid iSCSI name: iqn., eui. or naa. form, at most 223 bytes, no spaces. */
int iscsi_name_valid(const char *name);

#endif
