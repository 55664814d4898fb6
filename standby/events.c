/* Events the admin must see: one log line each, and a row in the DB's events table when
 * standbyd was given a database. */
#include <stdarg.h>
#include <stdio.h>

#include "db/db.h"
#include "standby/daemon.h"

void sb_event(struct standbyd *d, int level, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s", msg);
	if (d->db && db_event_add(d->db, level <= LOG_ERR ? "error" : level == LOG_WARNING
				  ? "warning" : "info", "standbyd", "%s: %s", d->cfg.node, msg))
		log_warn("could not record the event in the database: %s", db_errmsg(d->db));
}
