#include "client-admin/fields.h"

#include <stdio.h>
#include <string.h>

#include "common/netaddr.h"

/* "none" (or "") clears an optional field in `set`. */
static int is_clear(const char *v)
{
	return !*v || strcmp(v, "none") == 0;
}

static int take_name(struct cli *cli, char *dst, size_t len, const char *opt, const char *v)
{
	if (strlen(v) >= len)
		return cli_usage(cli, "%s '%s': longer than %zu characters", opt, v, len - 1);
	strcpy(dst, is_clear(v) ? "" : v);
	return 0;
}

int fields_take(struct cli *cli, struct field_changes *fc, int opt, const char *v)
{
	struct db_client *c = &fc->v;
	uint32_t ip;
	int b, rc = 0;

	switch (opt) {
	case OPT_IP:
		if (!is_clear(v) && ipv4_parse(v, &ip))
			return cli_usage(cli, "--ip '%s' is not an IPv4 address", v);
		rc = take_name(cli, c->ip, sizeof(c->ip), "--ip", v);
		fc->set |= F_IP;
		break;
	case OPT_GROUP:
		rc = take_name(cli, c->group, sizeof(c->group), "--group", v);
		fc->set |= F_GROUP;
		break;
	case OPT_IMAGE:
		rc = take_name(cli, c->image, sizeof(c->image), "--image", v);
		fc->set |= F_IMAGE;
		break;
	case OPT_SERVER:
		rc = take_name(cli, c->server, sizeof(c->server), "--server", v);
		fc->set |= F_SERVER;
		break;
	case OPT_HOT_STANDBY:
		if ((b = cli_parse_bool(v)) < 0)
			return cli_usage(cli, "--hot-standby '%s': expected on or off", v);
		c->hot_standby = b;
		fc->set |= F_HOT_STANDBY;
		break;
	case OPT_ENABLED:
		if ((b = cli_parse_bool(v)) < 0)
			return cli_usage(cli, "--enabled '%s': expected on or off", v);
		c->enabled = b;
		fc->set |= F_ENABLED;
		break;
	case OPT_AUTO_REGISTERED:
		if ((b = cli_parse_bool(v)) < 0)
			return cli_usage(cli, "--auto-registered '%s': expected on or off", v);
		c->auto_registered = b;
		fc->set |= F_AUTO;
		break;
	case OPT_OVERLAY:
		if (db_overlay_parse(v, &c->overlay))
			return cli_usage(cli, "--overlay '%s': expected restore or persistent", v);
		fc->set |= F_OVERLAY;
		break;
	case OPT_NAME:
	case OPT_NEW_NAME:
		if (!*v || strlen(v) >= sizeof(c->name))
			return cli_usage(cli, "name '%s': empty or longer than %zu characters", v,
					 sizeof(c->name) - 1);
		strcpy(c->name, v);
		fc->set |= F_NAME;
		break;
	case OPT_MAC:
	case OPT_NEW_MAC:
		if (mac_canonical(v, c->mac))
			return cli_usage(cli, "'%s' is not a MAC address", v);
		fc->set |= F_MAC;
		break;
	default:
		return cli_usage(cli, "internal: option %d is not a field", opt);
	}
	return rc;
}

int fields_check_refs(struct cli *cli, const struct field_changes *fc)
{
	struct db_group g;
	struct db_image img;
	struct db_server s;

	if ((fc->set & F_GROUP) && fc->v.group[0] && db_group_by_name(cli->db, fc->v.group, &g))
		return cli_fail(cli, "no group '%s' (create it with 'vdiskctl group add')",
				fc->v.group);
	if ((fc->set & F_IMAGE) && fc->v.image[0] && db_image_by_name(cli->db, fc->v.image, &img))
		return cli_fail(cli, "no image '%s' (add it with 'vdiskctl image add')",
				fc->v.image);
	if ((fc->set & F_SERVER) && fc->v.server[0] &&
	    db_server_by_name(cli->db, fc->v.server, &s))
		return cli_fail(cli, "no server '%s' (add it with 'vdiskctl server add')",
				fc->v.server);
	return 0;
}

static void describe(char *desc, size_t len, size_t *used, const char *field,
		     const char *from, const char *to)
{
	int n;

	if (!desc || *used >= len)
		return;
	n = snprintf(desc + *used, len - *used, "%s%s %s -> %s", *used ? ", " : "", field,
		     *from ? from : "none", *to ? to : "none");
	if (n > 0)
		*used += (size_t)n;
}

static const char *onoff(int b)
{
	return b ? "on" : "off";
}

int fields_apply(const struct field_changes *fc, struct db_client *c, char *desc, size_t len)
{
	size_t used = 0;
	int changed = 0;

#define APPLY_STR(bit, field, label)                                               \
	if ((fc->set & (bit)) && strcmp(c->field, fc->v.field) != 0) {             \
		describe(desc, len, &used, label, c->field, fc->v.field);          \
		strcpy(c->field, fc->v.field);                                     \
		changed = 1;                                                       \
	}
#define APPLY_FLAG(bit, field, label, fmt)                                         \
	if ((fc->set & (bit)) && c->field != fc->v.field) {                        \
		describe(desc, len, &used, label, fmt(c->field), fmt(fc->v.field)); \
		c->field = fc->v.field;                                            \
		changed = 1;                                                       \
	}
	if (desc && len)
		desc[0] = '\0';
	APPLY_STR(F_NAME, name, "name")
	APPLY_STR(F_MAC, mac, "mac")
	APPLY_STR(F_IP, ip, "ip")
	APPLY_STR(F_GROUP, group, "group")
	APPLY_STR(F_IMAGE, image, "image")
	APPLY_STR(F_SERVER, server, "server")
	APPLY_FLAG(F_HOT_STANDBY, hot_standby, "hot_standby", onoff)
	APPLY_FLAG(F_OVERLAY, overlay, "overlay", db_overlay_name)
	APPLY_FLAG(F_ENABLED, enabled, "enabled", onoff)
	APPLY_FLAG(F_AUTO, auto_registered, "auto_registered", onoff)
#undef APPLY_STR
#undef APPLY_FLAG
	return changed;
}

void fields_summary(const struct field_changes *fc, char *buf, size_t len)
{
	const struct db_client *v = &fc->v;
	size_t used = 0;
	int n;

#define PUT(bit, ...)                                                              \
	if ((fc->set & (bit)) && used < len) {                                     \
		n = snprintf(buf + used, len - used, "%s", used ? ", " : "");      \
		used += n > 0 ? (size_t)n : 0;                                     \
		if (used < len) {                                                  \
			n = snprintf(buf + used, len - used, __VA_ARGS__);         \
			used += n > 0 ? (size_t)n : 0;                             \
		}                                                                  \
	}
	buf[0] = '\0';
	PUT(F_NAME, "name=%s", v->name)
	PUT(F_MAC, "mac=%s", v->mac)
	PUT(F_IP, "ip=%s", v->ip[0] ? v->ip : "none")
	PUT(F_GROUP, "group=%s", v->group[0] ? v->group : "none")
	PUT(F_IMAGE, "image=%s", v->image[0] ? v->image : "none")
	PUT(F_SERVER, "server=%s", v->server[0] ? v->server : "none")
	PUT(F_HOT_STANDBY, "hot_standby=%s", v->hot_standby ? "on" : "off")
	PUT(F_OVERLAY, "overlay=%s", db_overlay_name(v->overlay))
	PUT(F_ENABLED, "enabled=%s", v->enabled ? "on" : "off")
	PUT(F_AUTO, "auto_registered=%s", v->auto_registered ? "on" : "off")
#undef PUT
}
