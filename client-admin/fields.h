/* The field options of `client add` and `client set`: which fields an admin asked to change,
 * checked against the database before any row is touched. */
#ifndef CLIENT_ADMIN_FIELDS_H
#define CLIENT_ADMIN_FIELDS_H

#include "client-admin/cli.h"

enum field_bit {
	F_IP = 1 << 0, F_GROUP = 1 << 1, F_IMAGE = 1 << 2, F_SERVER = 1 << 3,
	F_HOT_STANDBY = 1 << 4, F_OVERLAY = 1 << 5, F_ENABLED = 1 << 6,
	F_NAME = 1 << 7, F_MAC = 1 << 8, F_AUTO = 1 << 9,
};

struct field_changes {
	unsigned set;			/* enum field_bit */
	struct db_client v;		/* the new values of the fields in set */
};

enum {
	OPT_IP = OPT_FIRST_CMD, OPT_GROUP, OPT_IMAGE, OPT_SERVER, OPT_HOT_STANDBY, OPT_OVERLAY,
	OPT_ENABLED, OPT_NAME, OPT_MAC, OPT_NEW_NAME, OPT_NEW_MAC, OPT_ALL, OPT_RANGE,
	OPT_IP_RANGE, OPT_FORMAT, OPT_OUTPUT, OPT_LIMIT, OPT_PATH, OPT_SIZE, OPT_ROLE,
	OPT_SERVICE_ADDR, OPT_HA_ADDR, OPT_SET_GROUP, OPT_FORCE, OPT_SECRETS, OPT_NEW_SECRETS,
	OPT_AUTO_REGISTERED,
};

/* Takes one field option (OPT_IP ... OPT_ENABLED, OPT_NEW_NAME, OPT_NEW_MAC) into fc.
 * Returns 0 or EXIT_USAGE after reporting the bad value. */
int fields_take(struct cli *cli, struct field_changes *fc, int opt, const char *value);

/* Checks that every group, image and server named exists. Returns 0 or EXIT_FAIL. */
int fields_check_refs(struct cli *cli, const struct field_changes *fc);

/* Applies fc to c; returns 1 if any field changed. If desc is not NULL it receives
 * "field old -> new, ..." for a dry run or an event. */
int fields_apply(const struct field_changes *fc, struct db_client *c, char *desc, size_t len);

/* "hot_standby=on, overlay=persistent": what was asked, for the event line. */
void fields_summary(const struct field_changes *fc, char *buf, size_t len);

#endif
