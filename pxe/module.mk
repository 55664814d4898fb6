# pxe/: pxed, the DHCP and proxyDHCP server for PXE and iPXE clients. Everything but the main
# file is a library so unit tests, helpers and the fuzz target link the code the daemon runs.
$(eval $(call library,pxe,$(filter-out pxe/pxed.c,$(wildcard pxe/*.c))))
ifneq ($(wildcard pxe/pxed.c),)
$(eval $(call program,pxed,pxe/pxed.c))
endif
