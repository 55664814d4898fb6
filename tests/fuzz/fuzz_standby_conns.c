/* libFuzzer target: what tickle ACKs read. The input is a connection-list payload as the
 * peer ships it (conn_list_decode, against two service addresses), and the same bytes as a
 * buffer of a sock_diag dump answer (tcpdiag_decode, sequence 1). A list that decodes is
 * encoded again and must come out byte for byte: the wire form is canonical. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "standby/connlist.h"
#include "standby/tcpdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conn_list l;
static uint8_t out[CONN_LIST_MAX_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ours[] = { 0x0a4d0064, 0x01020304 };

	if (conn_list_decode(&l, data, size, ours, 2) == 0 &&
	    (conn_list_encode(&l, out) != size || memcmp(out, data, size) != 0))
		abort();
	memset(&l, 0, sizeof(l));
	tcpdiag_decode(data, size, 1, ours, 2, &l);
	if (l.n > CONN_LIST_MAX)
		abort();
	return 0;
}
