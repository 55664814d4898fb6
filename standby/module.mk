# standby/: standbyd, heartbeat and failover. Everything but the main file is a library so unit
# tests and fuzz targets link the code the daemon runs.
$(eval $(call library,standby,$(filter-out standby/standbyd.c,$(wildcard standby/*.c))))
ifneq ($(wildcard standby/standbyd.c),)
$(eval $(call program,standbyd,standby/standbyd.c))
endif
SYSLIBS += -lcrypto -lpcap -lpthread -lseccomp

# Failover latency against keepalived, in network namespaces (root).
BENCH_TARGETS += bench-failover
.PHONY: bench-failover
bench-failover: all tests
	BUILD=$(CURDIR)/$(BUILD) bash standby/bench-failover.sh

# make soak SECONDS=N: the fencing scenarios (tests/ha/fence.t) round after round with
# deadtime 1 s and 30 s in turn until N seconds have passed (root; $(BUILD)/soak-fence.log).
.PHONY: soak-fence
soak-fence: all tests
	BUILD=$(CURDIR)/$(BUILD) SRCDIR=$(CURDIR) bash tests/ha/fence-soak.sh $(SECONDS)
SOAK_TARGETS += soak-fence
