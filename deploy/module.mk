# deploy/: what puts the product on a server: `make install` (FHS paths, PREFIX and
# DESTDIR), the systemd units, tmpfiles.d and sysusers.d, the configuration files, vdisk-setup (the first
# day), the man pages; `make deb` builds the Debian packages from debian/ with Debian's
# tools (dpkg-buildpackage, debhelper).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]    programs in PREFIX/sbin; configuration in
#       /etc (SYSCONFDIR); units in PREFIX/lib/systemd/system (UNITDIR); state in /var/lib/vdisk
#   make deb                                       ../vdisk-server_*.deb, ../vdiskctl_*.deb

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/vdisk
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL    ?= install

DEPLOY_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@VERSION@|$(VERSION)|g'
MAN8 := $(wildcard deploy/man/*.8)
MAN5 := $(wildcard deploy/man/*.5)
SBIN_PROGRAMS := vdiskd standbyd pxed vdiskctl

.PHONY: install deb
install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(UNITDIR)/tftpd-hpa.service.d $(DESTDIR)$(SYSCONFDIR)/vdisk \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0755 $(addprefix $(BUILD)/,$(SBIN_PROGRAMS)) $(DESTDIR)$(SBINDIR)/
	$(DEPLOY_SUBST) deploy/vdisk-setup >$(DESTDIR)$(SBINDIR)/vdisk-setup
	chmod 0755 $(DESTDIR)$(SBINDIR)/vdisk-setup
	for u in vdiskd standbyd; do \
		$(DEPLOY_SUBST) deploy/systemd/$$u.service >$(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service; done
	$(DEPLOY_SUBST) deploy/systemd/tftpd-hpa-vdisk.conf \
		>$(DESTDIR)$(UNITDIR)/tftpd-hpa.service.d/vdisk.conf
	chmod 0644 $(DESTDIR)$(UNITDIR)/tftpd-hpa.service.d/vdisk.conf
	$(INSTALL) -m 0644 deploy/systemd/vdisk.tmpfiles $(DESTDIR)$(TMPFILESDIR)/vdisk.conf
	$(INSTALL) -m 0644 deploy/systemd/vdisk.sysusers $(DESTDIR)$(SYSUSERSDIR)/vdisk.conf
	$(INSTALL) -m 0644 deploy/etc/vdiskd.conf deploy/etc/pxed.conf $(DESTDIR)$(SYSCONFDIR)/vdisk/
	$(INSTALL) -m 0644 pxe/pxed.conf.example $(DESTDIR)$(DOCDIR)/examples/pxed.conf
	$(if $(MAN8),$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(MAN5),$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)

# Debian packages, built by Debian's tools from debian/ (binary only, unsigned) in a copy of
# the tree under $(BUILD)/deb, so dpkg-buildpackage's clean never touches this tree's build
# folders and its output (.deb, .changes, .buildinfo) lands in $(BUILD)/deb, not beside the
# source tree. `make deb-lint` runs lintian over them at its default level.
DEB_DIR = $(BUILD)/deb
DEB_SRC = $(DEB_DIR)/vdisk-$(VERSION)
.PHONY: deb-lint
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	tar -C . --exclude=./build --exclude='./build-*' --exclude=./.git \
		--exclude=./qemu-lab/cache --exclude=./debian/build -cf - . | tar -C $(DEB_SRC) -xf -
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

deb-lint:
	lintian --fail-on error,warning $(DEB_DIR)/vdisk_$(VERSION)_*.changes
