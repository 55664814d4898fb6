#include "pxe/pxe_class.h"

#include <string.h>

/* iPXE sends option 77 as the bare string "iPXE"; RFC 3004 clients send length-prefixed
 * items. Both are recognised. */
static int user_class_is_ipxe(const struct dhcp_msg *m)
{
	size_t len, i;
	const uint8_t *d = dhcp_opt_find(m, OPT_USER_CLASS, 1, &len);

	if (!d)
		return 0;
	if (len == 4 && memcmp(d, "iPXE", 4) == 0)
		return 1;
	for (i = 0; i < len; i += 1 + (size_t)d[i]) {
		if (d[i] > len - i - 1)
			return 0;
		if (d[i] == 4 && memcmp(d + i + 1, "iPXE", 4) == 0)
			return 1;
	}
	return 0;
}

void pxe_classify(const struct dhcp_msg *m, struct pxe_class *c)
{
	uint16_t arch;

	memset(c, 0, sizeof(*c));
	c->arch = dhcp_opt_u16(m, OPT_CLIENT_ARCH, &arch) == 0 ? arch : -1;
	dhcp_opt_str(m, OPT_VENDOR_CLASS, c->vendor, sizeof(c->vendor));
	if (user_class_is_ipxe(m))
		c->kind = PXE_KIND_IPXE;
	else if (strncmp(c->vendor, "PXEClient", 9) == 0)
		c->kind = PXE_KIND_ROM;
	else
		c->kind = PXE_KIND_PLAIN;
}

const char *pxe_kind_name(enum pxe_kind k)
{
	switch (k) {
	case PXE_KIND_ROM:  return "PXE";
	case PXE_KIND_IPXE: return "iPXE";
	default:            return "DHCP";
	}
}

const char *pxe_rom_file(int arch, const char *bios_file, const char *efi_file)
{
	switch (arch) {
	case -1:
	case PXE_ARCH_BIOS:
		return bios_file;
	case PXE_ARCH_EFI_X64:
	case PXE_ARCH_EFI_BC:
		return efi_file;
	default:
		/* IA32 UEFI, ARM and the rest: Debian's ipxe package ships no build for them. */
		return NULL;
	}
}
