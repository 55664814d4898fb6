# db/: the SQLite schema, migrations and the C API.
$(eval $(call library,db,$(wildcard db/*.c)))
SYSLIBS += -lsqlite3
