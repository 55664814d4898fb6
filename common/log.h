/* One line per event to stderr (and syslog when asked), never blocking the caller for long.
 * Levels are syslog's so the line and the syslog priority agree. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <syslog.h>
#include <time.h>

void log_init(const char *ident, int use_syslog, int max_level);
void log_set_level(int max_level);
/* From now on stderr alone: syslog closed, no journal entries (sd_journal_send and syslog
 * keep descriptors of their own, by number: a process about to close every descriptor but a
 * few, as standbyd's privileged helper does, must not use them afterwards). Under systemd,
 * stderr is the journal stream all the same, as plain lines. */
void log_stderr_only(void);

__attribute__((format(printf, 2, 3)))
void log_msg(int level, const char *fmt, ...);

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

/* Rate limit for one kind of repeated message (bad packets, refused logins): at most one line
 * per interval; the next line that gets through says how many were suppressed. */
struct log_ratelimit {
	time_t last;
	unsigned suppressed;
	unsigned interval_s;
};
#define LOG_RATELIMIT_INIT(secs) { 0, 0, (secs) }

__attribute__((format(printf, 3, 4)))
void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...);

#endif
