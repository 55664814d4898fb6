#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

static const char *log_ident = "vdisk";
static int log_syslog;
static int log_max = LOG_INFO;
static int log_journal;	/* stderr is systemd's journal stream: send entries instead */

static const char *const level_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected stdout/stderr to; a
 * child whose stderr was redirected keeps the variable, so the inode is compared. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb) < 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void log_init(const char *ident, int use_syslog, int max_level)
{
	log_ident = ident;
	log_max = max_level;
	/* Under systemd, one journal entry per event with its priority and our own identifier
	 * (pxed run by standbyd shares standbyd's stream, not its name); --syslog would only
	 * write each line twice into the same journal. */
	log_journal = stderr_is_journal();
	log_syslog = use_syslog && !log_journal;
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_stderr_only(void)
{
	if (log_syslog)
		closelog();
	log_syslog = 0;
	log_journal = 0;
}

void log_set_level(int max_level)
{
	log_max = max_level;
}

static void log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	int n;

	if (level > log_max)
		return;
	if (log_journal) {
		char msg[1024];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level & 7,
				    "SYSLOG_IDENTIFIER=%s", log_ident, NULL) == 0)
			return;
		/* the journal's socket refused it: the stream still takes the line, and reads
		 * the priority from the <N> prefix */
		n = snprintf(line, sizeof(line), "<%d>%s\n", level & 7, msg);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1;
		if (write(STDERR_FILENO, line, n) < 0) {
			/* Nowhere left to report a failing stderr. */
		}
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%d] %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, (long)tv.tv_usec / 1000, log_ident, (int)getpid(),
		     level_names[level & 7]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (log_syslog)
		syslog(level, "%s", line + n);
	/* One write per line keeps lines whole when several processes share stderr. */
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report a failing stderr. */
	}
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	time_t now = time(NULL);
	va_list ap;

	if (rl->last && now - rl->last < (time_t)rl->interval_s) {
		rl->suppressed++;
		return;
	}
	if (rl->suppressed)
		log_msg(level, "(%u similar messages suppressed)", rl->suppressed);
	rl->suppressed = 0;
	rl->last = now;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
