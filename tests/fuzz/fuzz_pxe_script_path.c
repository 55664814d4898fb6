/* libFuzzer target for what pxed's HTTP server reads from any host on the LAN: the request
 * path (ipxe_script_path_parse) and the access decision built on it, with the input also
 * choosing the asking address and neighbour MAC against a table holding one binding. A
 * served verdict must name the bound MAC from the bound address and neighbour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pxe/http_scripts.h"
#include "pxe/ipxe_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pxe_bindings b;
static const uint8_t bound[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x10 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	uint8_t mac[6], neigh[6];
	uint32_t peer = 0x0a4d0064;
	size_t n;

	if (!b.slot[0].used && !bindings_find(&b, bound, 1000))
		bindings_set(&b, bound, 0x0a4d0064, 2000);
	/* The first 10 bytes, if there are that many, pick the peer and the neighbour. */
	memcpy(neigh, bound, 6);
	if (size >= 10) {
		peer = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 |
		       data[3];
		memcpy(neigh, data + 4, 6);
		data += 10;
		size -= 10;
	}
	n = size < sizeof(path) - 1 ? size : sizeof(path) - 1;
	memcpy(path, data, n);
	path[n] = '\0';
	if (ipxe_script_path_parse(path, mac) == 0 && strlen(path) != IPXE_PATH_LEN)
		abort();
	if (script_access(path, peer, neigh, &b, 1000, mac) == SCRIPT_SERVE &&
	    (memcmp(mac, bound, 6) != 0 || peer != 0x0a4d0064 || memcmp(neigh, bound, 6) != 0))
		abort();
	return 0;
}
