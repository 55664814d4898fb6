# common/: logging, the event loop, the control socket, address parsing, the version.
$(eval $(call library,common,$(wildcard common/*.c)))
# One version for every program: debian/changelog's first entry (native package).
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
$(BUILD)/obj/common/version.o: CPPFLAGS += -DVDISK_VERSION='"$(or $(VERSION),unknown)"'
$(BUILD)/obj/common/version.o: $(wildcard debian/changelog)
# sd_notify (readiness) and the journal (log.c)
SYSLIBS += -lsystemd
# The control sockets' answers (ctlsock.c)
SYSLIBS += -ljansson
