# vdisk-server/: vdiskd, the iSCSI target. Everything but the main file is a library so unit
# tests and fuzz targets link the same code the daemon runs.
$(eval $(call library,vdiskd,$(filter-out vdisk-server/vdiskd.c,$(wildcard vdisk-server/*.c))))
ifneq ($(wildcard vdisk-server/vdiskd.c),)
$(eval $(call program,vdiskd,vdisk-server/vdiskd.c))
endif
SYSLIBS += -lcrypto -lisal -liscsi

# make bench: vdiskd against tgt on loopback over the same image, ratios printed
# (tests/bench/vdiskd_vs_tgt.sh; figures in docs/image-store.md).
.PHONY: bench-vdiskd
bench-vdiskd: $(BUILD)/vdiskd $(BUILD)/tests/helpers/store_iscsiload
	BUILD=$(CURDIR)/$(BUILD) bash tests/bench/vdiskd_vs_tgt.sh
BENCH_TARGETS += bench-vdiskd
