# client-admin/: vdiskctl, the admin CLI.
$(eval $(call library,vdiskctl,$(filter-out client-admin/vdiskctl.c,$(wildcard client-admin/*.c))))
$(eval $(call program,vdiskctl,client-admin/vdiskctl.c))

BENCH_TARGETS += bench-vdiskctl
bench-vdiskctl: deps all
	BUILD=$(CURDIR)/$(BUILD) bash tests/bench/vdiskctl.sh
