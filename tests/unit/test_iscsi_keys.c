/* Text keys: malformed segments refused, negotiation follows RFC 7143's result functions. */
#include <errno.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_keys.h"
#include "tests/lib/tap.h"

static int parse(const char *s, size_t len, struct iscsi_kv *kv, int max)
{
	static char buf[1024];

	memcpy(buf, s, len);
	return iscsi_text_parse(buf, len, kv, max);
}

static const char *answer(struct iscsi_params *neg, const struct iscsi_params *ours,
			  const char *key, const char *value)
{
	static struct iscsi_text_out out;
	static char copy[256];

	iscsi_text_out_init(&out, 256);
	if (!iscsi_negotiate_key(neg, ours, key, value, &out)) {
		iscsi_text_out_free(&out);
		return "(not operational)";
	}
	strcpy(copy, out.buf + strlen(key) + 1);
	iscsi_text_out_free(&out);
	return copy;
}

int main(void)
{
	struct iscsi_kv kv[8];
	struct iscsi_params ours, neg;
	struct iscsi_text_out out;
	uint32_t v;
	static const char good[] = "InitiatorName=iqn.x:y\0SessionType=Normal\0";
	static const struct { const char *text; size_t len; int rc; const char *why; } bad[] = {
		{ "NoEquals\0", 9, -EINVAL, "pair without '='" },
		{ "=value\0", 7, -EINVAL, "empty key" },
		{ "Bad Key=1\0", 10, -EINVAL, "space in key" },
		{ "K\x01=1\0", 5, -EINVAL, "control byte in key" },
		{ "a=1\0b=2\0c=3\0d=4\0e=5\0f=6\0g=7\0h=8\0i=9\0", 36, -E2BIG, "too many keys" },
	};

	is_int(parse(good, sizeof(good) - 1, kv, 8), 2, "two pairs");
	is_str(kv[0].key, "InitiatorName", "first key");
	is_str(kv[1].value, "Normal", "second value");
	is_int(parse("A=1\0B=2", 7, kv, 8), 2, "missing final NUL tolerated");
	is_str(kv[1].value, "2", "last value ends at the segment end");
	is_int(parse("A=\0", 3, kv, 8), 1, "empty value allowed");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse(bad[i].text, bad[i].len, kv, 8), bad[i].rc, "refused: %s", bad[i].why);
	{
		static char longkey[100];

		memset(longkey, 'K', 64);
		strcpy(longkey + 64, "=1");
		is_int(parse(longkey, strlen(longkey), kv, 8), -EINVAL, "refused: 64-byte key");
	}

	is_int(iscsi_parse_u32("0x10", &v), 0, "hex number");
	is_int(v, 16, "hex value");
	is_int(iscsi_parse_u32("4294967296", &v), -EINVAL, "2^32 refused");
	is_int(iscsi_parse_u32("12a", &v), -EINVAL, "trailing garbage refused");
	is_int(iscsi_parse_u32("", &v), -EINVAL, "empty refused");

	iscsi_params_rfc_default(&ours);
	ours.max_recv_dsl = 262144;
	ours.max_burst = 1048576;
	ours.first_burst = 65536;
	ours.initial_r2t = 0;
	ours.time2wait = 0;
	ours.header_digest = 1;
	iscsi_params_rfc_default(&neg);
	is_str(answer(&neg, &ours, "MaxBurstLength", "262144"), "262144", "MaxBurstLength: min");
	is_int(neg.max_burst, 262144, "stored");
	is_str(answer(&neg, &ours, "FirstBurstLength", "999999"), "65536", "FirstBurstLength: min");
	is_str(answer(&neg, &ours, "DefaultTime2Wait", "2"), "2", "DefaultTime2Wait: max");
	is_str(answer(&neg, &ours, "InitialR2T", "No"), "No", "InitialR2T: OR of No, No");
	is_str(answer(&neg, &ours, "InitialR2T", "Yes"), "Yes", "InitialR2T: OR with Yes");
	is_str(answer(&neg, &ours, "ImmediateData", "Yes"), "Yes", "ImmediateData: AND");
	is_str(answer(&neg, &ours, "ImmediateData", "Maybe"), "Reject", "bad boolean: Reject");
	is_str(answer(&neg, &ours, "MaxRecvDataSegmentLength", "8192"), "262144",
	       "MaxRecvDataSegmentLength: we declare ours");
	is_int(neg.max_recv_dsl, 8192, "and keep theirs for Data-In");
	is_str(answer(&neg, &ours, "MaxRecvDataSegmentLength", "100"), "Reject",
	       "below 512: Reject");
	is_str(answer(&neg, &ours, "HeaderDigest", "CRC32C,None"), "CRC32C",
	       "first digest of their list we support");
	is_str(answer(&neg, &ours, "DataDigest", "CRC32C,None"), "None", "data digest off: None");
	is_str(answer(&neg, &ours, "DataDigest", "MD5"), "Reject", "unknown digest: Reject");
	is_str(answer(&neg, &ours, "ErrorRecoveryLevel", "2"), "0", "ErrorRecoveryLevel: min");
	is_str(answer(&neg, &ours, "OFMarker", "Yes"), "No", "markers off");
	is_str(answer(&neg, &ours, "X-com.example.Foo", "1"), "(not operational)",
	       "vendor key left to the caller");

	iscsi_text_out_init(&out, 16);
	iscsi_text_add(&out, "Key", "%s", "value");
	is_int(out.len, 10, "answer with its NUL");
	iscsi_text_add(&out, "Another", "%s", "longvalue");
	ok(out.overflow && out.len == 10, "an answer that does not fit sets overflow, keeps the rest");
	iscsi_text_out_free(&out);
	return done_testing();
}
