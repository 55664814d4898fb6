/* Loading the three files from the config directory and checking them against each other. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "standby/config.h"

/* Reads a whole small file into buf[HA_FILE_MAX]; *mode gets its permission bits. */
static int read_small(const char *path, char *buf, size_t *len, mode_t *mode,
		      struct cfg_err *err)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%.300s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%.300s: not a regular file", path);
		goto out_close;
	}
	*mode = st.st_mode;
	while ((n = read(fd, buf + got, HA_FILE_MAX - got)) > 0) {
		got += (size_t)n;
		if (got == HA_FILE_MAX) {
			rc = -EFBIG;
			snprintf(err->msg, sizeof(err->msg), "%.300s: larger than %d bytes", path,
				 HA_FILE_MAX - 1);
			goto out_close;
		}
	}
	if (n < 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%.300s: %s", path, strerror(errno));
		goto out_close;
	}
	*len = got;
out_close:
	close(fd);
	return rc;
}

static int load_one(const char *dir, const char *name, char *buf, char *path, size_t pathlen,
		    size_t *len, mode_t *mode, struct cfg_err *err)
{
	if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen) {
		snprintf(err->msg, sizeof(err->msg), "%.300s: config directory path too long", dir);
		return -ENAMETOOLONG;
	}
	return read_small(path, buf, len, mode, err);
}

int ha_config_load(struct ha_config *c, const char *dir, const char *node, struct cfg_err *err)
{
	char path[HA_PATH_MAX + 32];
	struct utsname un;
	size_t len = 0;
	mode_t mode = 0;
	char *buf;
	int rc, me = -1;
	unsigned i;

	memset(c, 0, sizeof(*c));
	if (strlen(dir) >= sizeof(c->dir)) {
		snprintf(err->msg, sizeof(err->msg), "config directory path too long");
		return -ENAMETOOLONG;
	}
	strcpy(c->dir, dir);	/* length checked above */
	buf = malloc(HA_FILE_MAX);
	if (!buf) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}

	ha_cf_defaults(&c->cf);
	rc = load_one(dir, "ha.cf", buf, path, sizeof(path), &len, &mode, err);
	if (!rc)
		rc = ha_cf_parse(&c->cf, path, buf, len, err);
	if (!rc)
		rc = ha_cf_finish(&c->cf, path, err);
	if (rc)
		goto out_free_buf;

	rc = load_one(dir, "authkeys", buf, path, sizeof(path), &len, &mode, err);
	if (rc)
		goto out_free_buf;
	/* As Heartbeat: a key others can read signs nothing. Checked before parsing so the key
	 * is not even looked at. */
	if (mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err->msg, sizeof(err->msg), "%.300s: mode %03o lets group or others read the "
			 "keys; chmod 600 it", path, (unsigned)(mode & 0777));
		rc = -EPERM;
		goto out_free_buf;
	}
	rc = ha_authkeys_parse(&c->keys, path, buf, len, err);
	if (!rc) {
		char cfpath[HA_PATH_MAX + 32];

		snprintf(cfpath, sizeof(cfpath), "%s/ha.cf", dir);
		rc = ha_authkeys_policy(&c->keys, path, cfpath, c->cf.insecure_auth, err);
	}
	if (rc)
		goto out_free_buf;

	rc = load_one(dir, "haresources", buf, path, sizeof(path), &len, &mode, err);
	if (!rc)
		rc = ha_resources_parse(&c->res, path, buf, len, err);
	if (rc)
		goto out_free_buf;

	if (!node) {
		if (uname(&un) < 0) {
			rc = -errno;
			snprintf(err->msg, sizeof(err->msg), "uname: %s", strerror(errno));
			goto out_free_buf;
		}
		node = un.nodename;
	}
	for (i = 0; i < c->cf.nnodes; i++)
		if (strcmp(c->cf.nodes[i], node) == 0)
			me = (int)i;
	if (me < 0) {
		snprintf(err->msg, sizeof(err->msg), "%.300s/ha.cf: this node '%.40s' is not one of the "
			 "node lines (use --node NAME or fix uname -n)", dir, node);
		rc = -EINVAL;
		goto out_free_buf;
	}
	strcpy(c->node, c->cf.nodes[me]);
	strcpy(c->peer, c->cf.nodes[1 - me]);
	if (strcmp(c->res.node, c->cf.nodes[0]) && strcmp(c->res.node, c->cf.nodes[1])) {
		snprintf(err->msg, sizeof(err->msg), "%.300s/haresources: preferred node '%s' is not a "
			 "node in ha.cf", dir, c->res.node);
		rc = -EINVAL;
	}
out_free_buf:
	free(buf);
	return rc;
}
