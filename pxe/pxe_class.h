/* What kind of client sent a request: a PXE ROM (vendor class "PXEClient..."), iPXE (user
 * class "iPXE", so the chainload to iPXE never loops), or a plain DHCP client; and for a PXE
 * ROM, the architecture (option 93) that decides which iPXE build it gets. */
#ifndef PXE_PXE_CLASS_H
#define PXE_PXE_CLASS_H

#include "pxe/dhcp_pkt.h"

enum pxe_kind { PXE_KIND_PLAIN, PXE_KIND_ROM, PXE_KIND_IPXE };

/* RFC 4578 client system architecture types we have an iPXE build for. */
#define PXE_ARCH_BIOS     0
#define PXE_ARCH_EFI_IA32 6
#define PXE_ARCH_EFI_X64  7
#define PXE_ARCH_EFI_BC   9	/* EFI byte code, sent by some x86-64 firmware */

struct pxe_class {
	enum pxe_kind kind;
	int arch;		/* option 93, -1 when absent */
	char vendor[64];	/* option 60 as text, "" when absent */
};

void pxe_classify(const struct dhcp_msg *m, struct pxe_class *c);
const char *pxe_kind_name(enum pxe_kind k);

/* The iPXE build a PXE ROM of this architecture loads: bios_file for BIOS (and ROMs that send
 * no option 93, as old BIOS ROMs do), efi_file for x86-64 UEFI; NULL when we have none. */
const char *pxe_rom_file(int arch, const char *bios_file, const char *efi_file);

#endif
