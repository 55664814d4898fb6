#include "pxe/ipxe_script.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netaddr.h"

#define PATH_MAX_LOCAL 512
/* iPXE builds are a few hundred kilobytes; anything far larger is not one. */
#define IPXE_FILE_MAX (16 << 20)

int ipxe_script_url(char *out, size_t len, uint32_t service_addr, unsigned port,
		    const uint8_t mac[6])
{
	char addr[INET_ADDRSTRLEN];
	int n;

	ipv4_format(service_addr, addr);
	n = snprintf(out, len, "http://%s:%u" IPXE_PATH_PREFIX "%02x-%02x-%02x-%02x-%02x-%02x.ipxe",
		     addr, port, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int ipxe_script_path_parse(const char *path, uint8_t mac[6])
{
	const size_t pre = sizeof(IPXE_PATH_PREFIX) - 1;
	const char *p;
	int i, hi, lo;

	/* One exact shape: the length first, so nothing past it is ever read. */
	if (strnlen(path, IPXE_PATH_LEN + 1) != IPXE_PATH_LEN ||
	    memcmp(path, IPXE_PATH_PREFIX, pre) != 0 ||
	    memcmp(path + IPXE_PATH_LEN - 5, ".ipxe", 5) != 0)
		return -EINVAL;
	p = path + pre;
	for (i = 0; i < 6; i++, p += 3) {
		hi = hex_nibble(p[0]);
		lo = hex_nibble(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != '-'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return i > 0 && i < DB_NAME_MAX;
}

int ipxe_script_render(const struct db_client *c, uint32_t service_addr, const char *target_iqn,
		       int mutual, char *out, size_t len)
{
	char addr[INET_ADDRSTRLEN], chap[512];
	int n;

	/* The DB allows only these already; checked again because a script line is where a
	 * stray ' ', '#', '$' or newline would become iPXE syntax. */
	if (!name_valid(c->name) || !ipxe_iqn_valid(c->iqn) || !ipxe_iqn_valid(target_iqn) ||
	    !db_secret_valid(c->chap_secret) || (mutual && !db_secret_valid(c->chap_target_secret)))
		return -EINVAL;
	ipv4_format(service_addr, addr);
	n = snprintf(chap, sizeof(chap), "set username %s\nset password %s\n", c->iqn,
		     c->chap_secret);
	if (mutual && n > 0 && (size_t)n < sizeof(chap))
		n += snprintf(chap + n, sizeof(chap) - (size_t)n,
			      "set reverse-username %s\nset reverse-password %s\n", target_iqn,
			      c->chap_target_secret);
	if (n < 0 || (size_t)n >= sizeof(chap))
		return -ENOSPC;
	n = snprintf(out, len,
		     "#!ipxe\n"
		     "# Written by pxed from the database for %s (%s); for this PC only.\n"
		     "echo vdisk: %s booting from %s\n"
		     "set initiator-iqn %s\n"
		     "%s"
		     "sanboot iscsi:%s::::%s || goto failed\n"
		     ":failed\n"
		     "echo vdisk: %s could not boot from %s, retrying in 10 s\n"
		     "sleep 10\n"
		     "reboot\n",
		     c->name, c->mac, c->name, addr, c->iqn, chap, addr, target_iqn, c->name,
		     addr);
	explicit_bzero(chap, sizeof(chap));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int ipxe_iqn_valid(const char *s)
{
	size_t i;

	/* RFC 3722 allows far more, but this is what our names use, and none of it means
	 * anything to iPXE's command parser. */
	for (i = 0; i < DB_IQN_MAX && s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '-' || s[i] == ':'))
			return 0;
	return i > 0 && i < DB_IQN_MAX;
}

/* Writes len bytes of data to path through a temporary file and a rename, so a reader
 * (in.tftpd) sees the old file or the new one, never a part. */
static int write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX_LOCAL];
	const char *p = data;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out_unlink;
		}
		p += n;
		len -= (size_t)n;
	}
	/* mkstemp makes 0600; in.tftpd serves as an unprivileged user. */
	if (fchmod(fd, 0644)) {
		rc = -errno;
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		rc = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = -errno;
		goto out_unlink;
	}
	return 0;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reads a whole iPXE build (well under a megabyte) into memory. */
static int read_file(const char *path, char **data, size_t *len)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		rc = -errno;
		goto out_close;
	}
	if (sb.st_size > IPXE_FILE_MAX) {
		rc = -EFBIG;
		goto out_close;
	}
	*data = malloc((size_t)sb.st_size + 1);
	if (!*data) {
		rc = -ENOMEM;
		goto out_close;
	}
	n = read(fd, *data, (size_t)sb.st_size);
	if (n != sb.st_size) {
		rc = n < 0 ? -errno : -EIO;
		free(*data);
		goto out_close;
	}
	*len = (size_t)n;
out_close:
	close(fd);
	return rc;
}

/* Earlier versions wrote every client's script to root/clients/<mac>.ipxe, readable by
 * anyone on the LAN over TFTP. Those files (and the folder, once empty) go. */
static void remove_old_scripts(const char *root)
{
	char dir[PATH_MAX_LOCAL], path[PATH_MAX_LOCAL + 300];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/clients", root);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 5 && strcmp(e->d_name + n - 5, ".ipxe") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

int tftp_root_prepare(const char *root, const char *ipxe_dir, const char *const *files,
		      char *err, size_t errlen)
{
	char src[PATH_MAX_LOCAL], dst[PATH_MAX_LOCAL];
	int rc;

	rc = make_dir(root);
	if (rc) {
		snprintf(err, errlen, "cannot create %s: %s", root, strerror(-rc));
		return rc;
	}
	remove_old_scripts(root);
	for (; *files; files++) {
		struct stat ss, ds;
		char *data = NULL;
		size_t len = 0;

		snprintf(src, sizeof(src), "%s/%s", ipxe_dir, *files);
		snprintf(dst, sizeof(dst), "%s/%s", root, *files);
		if (stat(src, &ss)) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", src, strerror(errno));
			return rc;
		}
		if (stat(dst, &ds) == 0 && ds.st_size == ss.st_size && ds.st_mtime >= ss.st_mtime)
			continue;
		rc = read_file(src, &data, &len);
		if (!rc) {
			rc = write_atomic(dst, data, len);
			free(data);
		}
		if (rc) {
			snprintf(err, errlen, "copying %s to %s: %s", src, dst, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
