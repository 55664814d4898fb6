# standby/: standbyd, heartbeat and failover. Everything but the main file is a library so unit
# tests and fuzz targets link the code the daemon runs.
$(eval $(call library,standby,$(filter-out standby/standbyd.c,$(wildcard standby/*.c))))
ifneq ($(wildcard standby/standbyd.c),)
$(eval $(call program,standbyd,standby/standbyd.c))
endif
SYSLIBS += -lcrypto -lpcap -lpthread

# Failover latency against keepalived, in network namespaces (root).
BENCH_TARGETS += bench-failover
.PHONY: bench-failover
bench-failover: all tests
	BUILD=$(CURDIR)/$(BUILD) bash standby/bench-failover.sh
