#include "pxe/ipxe_script.h"

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

void ipxe_script_name(const uint8_t mac[6], char out[IPXE_SCRIPT_NAME_MAX])
{
	snprintf(out, IPXE_SCRIPT_NAME_MAX, "clients/%02x-%02x-%02x-%02x-%02x-%02x.ipxe",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int ipxe_script_render(const struct db_client *c, uint32_t service_addr, const char *target_iqn,
		       char *out, size_t len)
{
	char addr[INET_ADDRSTRLEN];
	int n;

	ipv4_format(service_addr, addr);
	/* The names come from the DB, which allows only [A-Za-z0-9_-] in client names and
	 * derives the IQN from them: nothing here can break out of an iPXE command line. */
	n = snprintf(out, len,
		     "#!ipxe\n"
		     "# Written by pxed from the database for %s (%s); rewritten at every boot.\n"
		     "echo vdisk: %s booting from %s\n"
		     "set initiator-iqn %s\n"
		     "sanboot iscsi:%s::::%s || goto failed\n"
		     ":failed\n"
		     "echo vdisk: %s could not boot from %s, retrying in 10 s\n"
		     "sleep 10\n"
		     "reboot\n",
		     c->name, c->mac, c->name, addr, c->iqn, addr, target_iqn, c->name, addr);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int ipxe_iqn_valid(const char *s)
{
	size_t i;

	/* RFC 3722 allows far more, but this is what our names use, and none of it means
	 * anything to iPXE's command parser. */
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '.' || s[i] == '-' || s[i] == ':'))
			return 0;
	return i > 0 && i < DB_IQN_MAX;
}

/* Writes len bytes of data to dir/name through a temporary file and a rename, so a reader
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

int ipxe_script_write(const char *root, const char *name, const char *text, size_t len)
{
	char path[PATH_MAX_LOCAL];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return write_atomic(path, text, len);
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

int tftp_root_prepare(const char *root, const char *ipxe_dir, const char *const *files,
		      char *err, size_t errlen)
{
	char src[PATH_MAX_LOCAL], dst[PATH_MAX_LOCAL];
	int rc;

	rc = make_dir(root);
	if (!rc) {
		snprintf(dst, sizeof(dst), "%s/clients", root);
		rc = make_dir(dst);
	}
	if (rc) {
		snprintf(err, errlen, "cannot create %s/clients: %s", root, strerror(-rc));
		return rc;
	}
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
