/* The key = value reader (common/kvconf) and pxed's key table: defaults, every type, ranges,
 * and errors naming file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kvconf.h"
#include "pxe/pxe_conf.h"
#include "tests/lib/tap.h"

static char path[64];

static int load(const char *text, struct pxe_conf *c, char *err, size_t len)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return pxe_conf_load(path, c, err, len);
}

#define BASE "interface = eth1\nservice_address = 10.0.0.1\npool = 10.0.0.100-10.0.0.199\n"

int main(void)
{
	static struct pxe_conf c;
	char err[512], want[600];
	int fd;

	snprintf(path, sizeof(path), "/tmp/px-conf.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		skip_all("no temporary file");
		return 0;
	}
	close(fd);

	is_int(load(BASE, &c, err, sizeof(err)), 0, "minimal file");
	is_str(c.interface, "eth1", "interface");
	is_int(c.mode, PXE_MODE_DHCP, "mode defaults to dhcp");
	is_int(c.lease_time, 3600, "lease_time default");
	is_int(c.subnet_mask, 0xffffff00, "subnet_mask default");
	is_int(c.pool.first, 0x0a000064, "pool first");
	is_int(c.pool.last, 0x0a0000c7, "pool last");
	is_str(c.tftp_root, "/srv/tftp", "tftp_root default");
	is_str(c.efi_file, "snponly.efi", "efi_file default");
	is_int(c.tftp, 1, "tftp on by default");
	is_int(c.router, 0, "no router by default");
	is_int(c.dns.n, 0, "no dns by default");
	is_int(c.http_port, 8069, "http_port default");
	is_int(load(BASE "http_port = 80\n", &c, err, sizeof(err)), 0, "http_port 80");
	is_int(c.http_port, 80, "read");
	ok(load(BASE "http_port = 0\n", &c, err, sizeof(err)) != 0 && strstr(err, ":4:"),
	   "must fail: http_port 0, naming the line: %s", err);
	ok(load(BASE "http_port = 65536\n", &c, err, sizeof(err)) != 0, "must fail: http_port 65536");
	ok(load(BASE "http_port = 80x\n", &c, err, sizeof(err)) != 0, "must fail: http_port 80x");

	is_int(load(BASE "  # indented comment\n\n mode=proxy \ntftp = OFF\n"
		    "dns = 10.0.0.1,10.0.0.2 10.0.0.3\nlease_time = 120\n", &c, err, sizeof(err)), 0,
	       "comments, blank lines, no spaces around '=', mixed case booleans");
	is_int(c.mode, PXE_MODE_PROXY, "mode proxy");
	is_int(c.tftp, 0, "tftp OFF");
	is_int(c.dns.n, 3, "3 dns servers, commas and spaces");
	is_int(c.dns.addr[2], 0x0a000003, "third dns server");
	is_int(c.lease_time, 120, "lease_time at its minimum");

	is_int(load(BASE "lease_time = 119\n", &c, err, sizeof(err)), -EINVAL, "below the range");
	snprintf(want, sizeof(want), "%s:4: lease_time: 119 is out of range 120..604800", path);
	is_str(err, want, "error names file, line, key and range");
	is_int(load(BASE "lease_time = 99999999999999999999\n", &c, err, sizeof(err)), -EINVAL,
	       "overflowing number");
	is_int(load(BASE "lease_time =\n", &c, err, sizeof(err)), -EINVAL, "empty number");
	is_int(load(BASE "pool = 10.0.0.1-\n", &c, err, sizeof(err)), -EINVAL, "half a pool");
	is_int(load(BASE "\npool2 = x\n", &c, err, sizeof(err)), -EINVAL, "unknown key");
	snprintf(want, sizeof(want), "%s:5: unknown key 'pool2'", path);
	is_str(err, want, "on line 5");
	{
		char big[2000];

		memset(big, 'a', sizeof(big));
		memcpy(big, "node = ", 7);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		is_int(load(big, &c, err, sizeof(err)), -EINVAL, "a 2000-byte line");
		ok(strstr(err, ":1: line longer than") != NULL, "is refused as too long");
	}
	is_int(load("interface = eth1\npool = 10.0.0.100-10.0.0.199\n", &c, err, sizeof(err)),
	       -EINVAL, "service_address missing");
	ok(strstr(err, "service_address is required") != NULL, "says which key is missing");
	is_int(load(BASE "interface = eth2\n", &c, err, sizeof(err)), -EINVAL, "duplicate key");
	is_int(load(BASE "mode = proxy\npool = 10.0.0.5-10.0.0.4\n", &c, err, sizeof(err)), -EINVAL,
	       "duplicate pool reported before its value");
	is_int(load("interface = eth1\nservice_address = 10.0.0.1\nmode = proxy\n", &c, err,
		    sizeof(err)), 0, "proxy without pool");
	is_int(load("interface = eth1\nservice_address = 10.0.0.1\n", &c, err, sizeof(err)),
	       -EINVAL, "dhcp without pool");
	is_int(pxe_conf_load("/nonexistent/pxed.conf", &c, err, sizeof(err)), -ENOENT,
	       "missing file: -ENOENT");
	unlink(path);
	return done_testing();
}
