# vdisk-server/: vdiskd, the iSCSI target, one library per layer (docs/architecture.md):
# store/ (base images, overlays), mirror/ (a store that mirrors to the peer), scsi/ (SBC/SPC
# and the vendor-command LUs), iscsi/ (the transport), and here what assembles them into the
# daemon. tests/arch/layers.t checks that no layer includes one above it. Everything but the
# main file is a library so unit tests and fuzz targets link the same code the daemon runs.
$(eval $(call library,vdiskd-store,$(wildcard vdisk-server/store/*.c)))
$(eval $(call library,vdiskd-mirror,$(wildcard vdisk-server/mirror/*.c)))
$(eval $(call library,vdiskd-scsi,$(wildcard vdisk-server/scsi/*.c)))
$(eval $(call library,vdiskd-iscsi,$(wildcard vdisk-server/iscsi/*.c)))
$(eval $(call library,vdiskd,$(filter-out vdisk-server/vdiskd.c,$(wildcard vdisk-server/*.c))))
ifneq ($(wildcard vdisk-server/vdiskd.c),)
$(eval $(call program,vdiskd,vdisk-server/vdiskd.c))
endif
SYSLIBS += -lcrypto -lisal -liscsi

# libiscsi's conformance suite against vdiskd on loopback (about a minute); the score line is
# what docs/vdiskd.md quotes. cu-score lives beside the repository in ../shared/tools (one
# level further up from a worktree under wt/).
CU_SCORE ?= $(firstword $(wildcard $(CURDIR)/../shared/tools/cu-score \
			$(CURDIR)/../../shared/tools/cu-score) $(CURDIR)/../shared/tools/cu-score)
conformance: $(BUILD)/vdiskd
	@if [ ! -x "$(CU_SCORE)" ]; then \
	  echo "make conformance: cu-score not found at $(CU_SCORE); set CU_SCORE=PATH" >&2; exit 1; fi
	@command -v iscsi-test-cu >/dev/null || { \
	  echo "make conformance: iscsi-test-cu missing (apt-get install libiscsi-bin)" >&2; exit 1; }
	BUILD=$(CURDIR)/$(BUILD) SRCDIR=$(CURDIR) CU_SCORE=$(CU_SCORE) CU_LOG=$(CURDIR)/$(BUILD)/conformance.log \
	  bash tests/vdiskd/conformance.t
	@$(CU_SCORE) $(BUILD)/conformance.log

# make bench: vdiskd against tgt on loopback over the same image, ratios printed
# (tests/bench/vdiskd_vs_tgt.sh; figures in docs/image-store.md).
.PHONY: bench-vdiskd
bench-vdiskd: $(BUILD)/vdiskd $(BUILD)/tests/helpers/store_iscsiload
	BUILD=$(CURDIR)/$(BUILD) bash tests/bench/vdiskd_vs_tgt.sh
BENCH_TARGETS += bench-vdiskd

# make bench-mirror: mirrored against unmirrored writes on one pair in namespaces, the HA
# link's round trip and TCP throughput, resync throughput, the stall at a power cut (root).
.PHONY: bench-mirror
bench-mirror: all tests
	BUILD=$(CURDIR)/$(BUILD) bash vdisk-server/bench-mirror.sh
BENCH_TARGETS += bench-mirror

# make soak SECONDS=N: the model test of the overlay and the mirror (tests/mirror/model.t)
# with fresh seeds until N seconds have passed (root; results in $(BUILD)/soak-model.log).
.PHONY: soak-mirror-model
soak-mirror-model: all tests
	BUILD=$(CURDIR)/$(BUILD) SRCDIR=$(CURDIR) bash tests/mirror/model-soak.sh $(SECONDS)
SOAK_TARGETS += soak-mirror-model
