/* The per-client iPXE script and who gets it: the script's lines (CHAP credentials, every
 * value checked before it goes into a line), its URL, the request path parser (must-fail
 * vectors: it reads what any host on the LAN sends), the bindings table and the access
 * decision of the HTTP server. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pxe/bindings.h"
#include "pxe/http_scripts.h"
#include "pxe/ipxe_script.h"
#include "tests/lib/tap.h"

static const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };

static struct db_client client(void)
{
	struct db_client c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "PC001");
	snprintf(c.mac, sizeof(c.mac), "52:54:00:ab:cd:ef");
	snprintf(c.iqn, sizeof(c.iqn), "iqn.2026-11.lan.vdisk:pc001");
	snprintf(c.chap_secret, sizeof(c.chap_secret), "Abcdefgh12345678");
	snprintf(c.chap_target_secret, sizeof(c.chap_target_secret), "Zyxwvuts87654321");
	c.enabled = 1;
	return c;
}

static void test_render(void)
{
	struct db_client c = client(), bad;
	char script[IPXE_SCRIPT_MAX];
	const char *target = "iqn.2026-11.lan.vdisk:disk";
	int n;

	n = ipxe_script_render(&c, 0x0a000001, target, 1, script, sizeof(script));
	ok(n > 0 && (size_t)n == strlen(script), "script rendered");
	ok(strncmp(script, "#!ipxe\n", 7) == 0, "starts with #!ipxe");
	ok(strstr(script, "\nset initiator-iqn iqn.2026-11.lan.vdisk:pc001\n") != NULL,
	   "initiator IQN");
	ok(strstr(script, "\nset username iqn.2026-11.lan.vdisk:pc001\n"
			  "set password Abcdefgh12345678\n"
			  "set reverse-username iqn.2026-11.lan.vdisk:disk\n"
			  "set reverse-password Zyxwvuts87654321\n"
			  "sanboot iscsi:10.0.0.1::::iqn.2026-11.lan.vdisk:disk ") != NULL,
	   "CHAP: the client's IQN and secret, the target's IQN and secret, then the sanboot");
	n = ipxe_script_render(&c, 0x0a000001, target, 0, script, sizeof(script));
	ok(n > 0 && strstr(script, "set password Abcdefgh12345678\n") &&
	   !strstr(script, "reverse") && !strstr(script, "Zyxwvuts"),
	   "one-way: no reverse credentials, no target secret");
	is_int(ipxe_script_render(&c, 0x0a000001, target, 1, script, 100), -ENOSPC,
	       "too small a buffer");

	/* Must fail: anything that would become iPXE syntax in a line. */
	bad = c;
	strcpy(bad.chap_secret, "Abcdefgh1234567\n");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "a newline in the secret");
	strcpy(bad.chap_secret, "Abcd${x}h1234567");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "a ${} expansion in the secret");
	strcpy(bad.chap_secret, "short");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "a short secret");
	bad.chap_secret[0] = '\0';
	is_int(ipxe_script_render(&bad, 1, target, 0, script, sizeof(script)), -EINVAL,
	       "no secret at all, even one-way");
	bad = c;
	strcpy(bad.chap_target_secret, "Zyxwvuts 7654321");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "a space in the target secret");
	bad = c;
	strcpy(bad.iqn, "iqn.x:pc001 || shell");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "an IQN with spaces and ||");
	bad = c;
	strcpy(bad.name, "PC#1");
	is_int(ipxe_script_render(&bad, 1, target, 1, script, sizeof(script)), -EINVAL,
	       "a '#' in the name");
	is_int(ipxe_script_render(&c, 1, "iqn.x:disk\necho", 1, script, sizeof(script)), -EINVAL,
	       "a newline in the target IQN");
	ok(ipxe_iqn_valid("iqn.2026-11.lan.vdisk:disk"), "a target IQN is valid");
	ok(!ipxe_iqn_valid("iqn.x:disk\nshell"), "a newline is not");
	ok(!ipxe_iqn_valid("iqn.x:disk ; reboot"), "nor spaces");
	ok(!ipxe_iqn_valid("IQN.X:DISK"), "nor upper case");
	ok(!ipxe_iqn_valid(""), "nor nothing");
}

static void test_url_and_path(void)
{
	char url[IPXE_URL_MAX];
	uint8_t mac[6];
	static const char *const bad[] = {
		"", "/", "/ipxe/", "/ipxe/52-54-00-ab-cd-ef", "/ipxe/52-54-00-ab-cd-ef.ipx",
		"/ipxe/52-54-00-ab-cd-ef.ipxe/", "/ipxe/52-54-00-ab-cd-ef.ipxe?x=1",
		"/ipxe/52-54-00-AB-CD-EF.ipxe", "/ipxe/52:54:00:ab:cd:ef.ipxe",
		"/ipxe/52-54-00-ab-cd-eg.ipxe", "/ipxe/52-54-00-ab-cd-e.ipxe",
		"/ipxe/52-54-00-ab-cd-eff.ipxe", "/ipxe/../ipxe/52-54-00-ab-cd-ef.ipxe",
		"/IPXE/52-54-00-ab-cd-ef.ipxe", "//ipxe/52-54-00-ab-cd-ef.ipxe",
		"/ipxe/52-54-00-ab-cd-ef.ipxe\n", "/ipxe/ 52-54-00-ab-cd-e.ipxe",
		"/ipxe/52-54-00-ab-cd+ef.ipxe", "/ipxe/5-254-00-ab-cd-ef.ipxe",
		"/ipxe/52-54-00-ab-cd-ef.ipxeXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
		"/clients/52-54-00-ab-cd-ef.ipxe",
	};
	size_t i;
	int n;

	n = ipxe_script_url(url, sizeof(url), 0x0a000001, 8069, mac1);
	is_str(url, "http://10.0.0.1:8069/ipxe/52-54-00-ab-cd-ef.ipxe", "the URL");
	is_int(n, (int)strlen(url), "its length");
	n = ipxe_script_url(url, sizeof(url), 0xffffffff, 65535, mac1);
	ok(n > 0 && n < 128, "the longest URL fits the DHCP file field (%d)", n);
	is_int(ipxe_script_url(url, 20, 0x0a000001, 8069, mac1), -ENAMETOOLONG, "too small");

	is_int(ipxe_script_path_parse("/ipxe/52-54-00-ab-cd-ef.ipxe", mac), 0, "the path parses");
	ok(memcmp(mac, mac1, 6) == 0, "to the MAC");
	is_int(ipxe_script_path_parse("/ipxe/00-00-00-00-00-00.ipxe", mac), 0, "all zeros");
	is_int(ipxe_script_path_parse("/ipxe/ff-ff-ff-ff-ff-ff.ipxe", mac), 0, "all ones");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ipxe_script_path_parse(bad[i], mac), -EINVAL, "must fail: '%.40s'", bad[i]);
}

static void test_bindings_and_access(void)
{
	static struct pxe_bindings b;
	uint8_t mac[6], m[6];
	time_t now = 1000;
	const char *p1 = "/ipxe/52-54-00-ab-cd-ef.ipxe";
	unsigned i;

	ok(bindings_find(&b, mac1, now) == NULL, "empty table");
	bindings_set(&b, mac1, 0x0a000064, now + PXE_BIND_WINDOW_S);
	ok(bindings_find(&b, mac1, now) && bindings_find(&b, mac1, now)->ip == 0x0a000064,
	   "PC001 bound to 10.0.0.100");
	ok(bindings_find(&b, mac1, now + PXE_BIND_WINDOW_S) == NULL, "until the window ends");

	is_int(script_access(p1, 0x0a000064, mac1, &b, now, mac), SCRIPT_SERVE,
	       "PC001 from its address, its MAC in the neighbour table: served");
	ok(memcmp(mac, mac1, 6) == 0, "with PC001's MAC");
	is_int(script_access(p1, 0x0a000065, mac2, &b, now, mac), SCRIPT_WRONG_ADDRESS,
	       "another host asks for PC001's script: refused");
	is_int(script_access(p1, 0x0a000064, mac2, &b, now, mac), SCRIPT_WRONG_NEIGHBOR,
	       "from PC001's address but another MAC holds it: refused");
	is_int(script_access(p1, 0x0a000064, NULL, &b, now, mac), SCRIPT_WRONG_NEIGHBOR,
	       "no neighbour entry: refused");
	is_int(script_access("/ipxe/52-54-00-00-00-02.ipxe", 0x0a000064, mac1, &b, now, mac),
	       SCRIPT_NO_BINDING, "PC001 asks for PC002's script: refused");
	is_int(script_access(p1, 0x0a000064, mac1, &b, now + PXE_BIND_WINDOW_S, mac),
	       SCRIPT_NO_BINDING, "after the window: refused");
	is_int(script_access("/etc/passwd", 0x0a000064, mac1, &b, now, mac), SCRIPT_BAD_PATH,
	       "not a script path");

	/* The address moves to PC002: PC001's binding to it ends. */
	bindings_set(&b, mac2, 0x0a000064, now + PXE_BIND_WINDOW_S);
	ok(bindings_find(&b, mac1, now) == NULL, "an address belongs to one client");
	is_int(script_access(p1, 0x0a000064, mac1, &b, now, mac), SCRIPT_NO_BINDING,
	       "and PC001's script is not served there any more");
	bindings_clear(&b, mac2);
	ok(bindings_find(&b, mac2, now) == NULL, "cleared (DHCPRELEASE)");

	/* A full table: the binding that expires first goes, never a fresh one. */
	bindings_set(&b, mac1, 0x0a000064, now + PXE_BIND_WINDOW_S);
	for (i = 0; i < 3 * PXE_BIND_SLOTS; i++) {
		m[0] = 0x02;
		m[1] = 0;
		m[2] = (uint8_t)(i >> 24);
		m[3] = (uint8_t)(i >> 16);
		m[4] = (uint8_t)(i >> 8);
		m[5] = (uint8_t)i;
		bindings_set(&b, m, 0x0b000000 + i, now - 1);	/* already expired */
	}
	ok(bindings_find(&b, mac1, now) != NULL,
	   "12,288 expired bindings later PC001's live one is still there");
}

int main(void)
{
	test_render();
	test_url_and_path();
	test_bindings_and_access();
	return done_testing();
}
