/* Minimal TAP producer for C unit tests: one "ok N - text" line per check, the plan at the
 * end. Header-only because every test is one file and links nothing else of its own. */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 4, 5)))
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {                                            \
	long long got_ = (long long)(got), want_ = (long long)(want);          \
	if (!ok(got_ == want_, __VA_ARGS__))                                   \
		printf("#   got %lld, want %lld\n", got_, want_);              \
} while (0)

#define is_str(got, want, ...) do {                                            \
	const char *got_ = (got), *want_ = (want);                             \
	if (!ok(got_ && want_ && strcmp(got_, want_) == 0, __VA_ARGS__))       \
		printf("#   got '%s', want '%s'\n", got_ ? got_ : "(null)",     \
		       want_ ? want_ : "(null)");                               \
} while (0)

#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

static inline void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
