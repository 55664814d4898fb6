# pxe/: pxed, the DHCP and proxyDHCP server for PXE and iPXE clients. Everything but the main
# file is a library so unit tests, helpers and the fuzz target link the code the daemon runs.
$(eval $(call library,pxe,$(filter-out pxe/pxed.c,$(wildcard pxe/*.c))))
# libmicrohttpd serves the per-client iPXE scripts (pxe/http_scripts.c).
SYSLIBS += -lmicrohttpd
ifneq ($(wildcard pxe/pxed.c),)
$(eval $(call program,pxed,pxe/pxed.c))
endif

# Boot storm benchmark: 300 clients DISCOVER and REQUEST at once; prints the time to the
# last ACK against the 1 s target. Needs root (network namespaces).
.PHONY: bench-pxe
bench-pxe: all $(BUILD)/tests/helpers/pxe_storm $(BUILD)/tests/helpers/pxe_dbseed $(BUILD)/tests/helpers/ctl_ask \
	$(BUILD)/tests/helpers/ctl_fake
	BUILD=$(CURDIR)/$(BUILD) bash tests/pxe/bench_storm.sh
BENCH_TARGETS += bench-pxe
