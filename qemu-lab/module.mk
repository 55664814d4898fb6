# qemu-lab/: the guest that real diskless clients in QEMU boot. `make lab-image` builds the
# static workload, fetches the guest's Debian packages into a cache (never installing them on
# the host), and assembles the initramfs and the disk image without loop devices or mounts.

LAB_OUT   := $(BUILD)/qemu-lab
LAB_CACHE ?= qemu-lab/cache
# The guest workload runs on a root without a C library: static, with the host's gcc whatever
# CC the rest of the build uses (clang for fuzzing).
LAB_CC    ?= gcc
LAB_WORKLOAD_SRCS := $(wildcard qemu-lab/workload/*.c)
LAB_GUEST := $(wildcard qemu-lab/guest/*)

.PHONY: lab-image

$(LAB_OUT)/workload: $(LAB_WORKLOAD_SRCS) $(wildcard qemu-lab/workload/*.h)
	@mkdir -p $(@D)
	$(LAB_CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -static -pthread -o $@ $(LAB_WORKLOAD_SRCS)

# The stamp stands for the unpacked tree; fetch.sh redoes nothing it already has.
$(LAB_CACHE)/tree.stamp: qemu-lab/fetch.sh
	qemu-lab/fetch.sh $(LAB_CACHE)

$(LAB_OUT)/initramfs.img: $(LAB_CACHE)/tree.stamp qemu-lab/mkinitramfs.sh qemu-lab/lib.sh $(LAB_GUEST)
	qemu-lab/mkinitramfs.sh $(LAB_CACHE) $@

$(LAB_OUT)/disk.img: $(LAB_OUT)/initramfs.img $(LAB_OUT)/workload qemu-lab/mkimage.sh qemu-lab/lib.sh $(LAB_GUEST)
	qemu-lab/mkimage.sh $(LAB_CACHE) $(LAB_OUT)/workload $(LAB_OUT)/initramfs.img $@

# The lab's stand-in servers use the same static busybox (udhcpd) as the guest.
$(LAB_OUT)/busybox: $(LAB_CACHE)/tree.stamp
	@mkdir -p $(@D)
	cp $(LAB_CACHE)/tree/bin/busybox $@

lab-image: $(LAB_OUT)/disk.img $(LAB_OUT)/busybox

# `make lab` (issue 8): the whole product on a server pair in network namespaces, QEMU
# clients booting from it, a power cut of the primary and its return (qemu-lab/failover.sh).
# Root only; LAB_CLIENTS (default 2) clients; serial logs kept in $(BUILD)/qemu-lab/logs.
.PHONY: lab
lab: all lab-image
	SRCDIR=$(CURDIR) BUILD=$(abspath $(BUILD)) qemu-lab/failover.sh
