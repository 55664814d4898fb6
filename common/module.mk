# common/: logging, the event loop, the control socket, address parsing.
$(eval $(call library,common,$(wildcard common/*.c)))
