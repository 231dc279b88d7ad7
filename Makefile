# wstape - record WebSocket feeds to disk and play them back
#
# Settings (override on the command line: make BUILD=build-x CFLAGS=-O0 ...)
PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter
SAN      ?=
WERROR   ?=
PKGS     := libwebsockets openssl lmdb libzstd jansson zlib libnats
TESTPKGS := cmocka
# Debian packages: build libraries, test peers and tools
DEB_BUILD := build-essential pkg-config libwebsockets-dev libssl-dev liblmdb-dev libzstd-dev \
             libjansson-dev libjsmn-dev libcmocka-dev zlib1g-dev libnats-dev python3
DEB_TEST  := python3-websockets python3-lmdb python3-zstandard python3-crcmod python3-pandas python3-pip \
             python3-setuptools zstd gzip jq bc lmdb-utils openssl nodejs npm procps psmisc curl prometheus \
             nats-server
# for `make fuzz` only (libFuzzer comes with clang)
DEB_FUZZ  := clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SKIP    ?=

ifneq ($(SAN),)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN  := -fsanitize=address,undefined
endif
ifneq ($(WERROR),)
WARN += -Werror
endif

# pkg-config is asked when a recipe first needs the flags, not while make reads this file:
# on a fresh machine the packages arrive during this very run (check-deps, which every
# compile waits for), so flags computed at parse time would be empty. Each is asked once.
lazy = $(eval $(1) := $$(shell $(2)))$($(1))
PKG_CFLAGS  = $(call lazy,PKG_CFLAGS,pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(call lazy,PKG_LIBS,pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(call lazy,CMOCKA_LIBS,pkg-config --libs $(TESTPKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -I. -MMD -MP $(PKG_CFLAGS) -D_GNU_SOURCE
LIBS        = $(PKG_LIBS) -lpthread -lm

# One folder per part; every .c in them is library code, cmd/ holds one file per subcommand.
PARTS   := util journal feeds recorder replay inspect metrics jetstream cmd
LIB_SRC := $(sort $(foreach d,$(PARTS),$(wildcard $(d)/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libwstape.a
BIN     := $(BUILD)/wstape

# tests/test_*.c are cmocka suites; other tests/*.c and bench/*.c are helper programs.
TEST_SRC  := $(wildcard tests/*.c)
TEST_BIN  := $(TEST_SRC:%.c=$(BUILD)/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)
# fuzz/NAME.c are libFuzzer harnesses: $(FUZZ_BUILD)/fuzz/NAME with clang for `make fuzz`,
# $(BUILD)/fuzz/NAME with fuzz/main.c (replays the kept inputs) for `make test`.
FUZZ_SRC   := $(filter-out fuzz/main.c,$(wildcard fuzz/*.c))
FUZZ_BIN   := $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/%)
FUZZ_REPLAY := $(FUZZ_SRC:%.c=$(BUILD)/%)
FUZZ_OBJ   := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_CFLAGS := -std=gnu11 $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=undefined -I. -MMD -MP -D_GNU_SOURCE

.PHONY: all deps check-deps check-test-deps check-fuzz-deps test asan bench fuzz fuzz-build demo install clean node-deps \
	install-python uninstall-python format format-check lib man uninstall install-systemd uninstall-systemd

all: check-deps $(BIN) lib man

check-deps:
	@pkg-config --exists $(PKGS) $(TESTPKGS) && test -f /usr/include/jsmn.h && test -x /usr/bin/python3 || { \
		echo "missing build dependencies; installing them (make deps)"; $(MAKE) --no-print-directory deps; }

# after check-deps, never beside it (make -j): one apt-get at a time
check-test-deps: check-deps
	@/usr/bin/python3 -c 'import websockets, lmdb, zstandard, crcmod, pandas, setuptools, pip' 2>/dev/null && command -v zstd >/dev/null && \
		command -v jq >/dev/null && command -v bc >/dev/null && node --version >/dev/null 2>&1 && \
		npm --version >/dev/null 2>&1 && command -v openssl >/dev/null && command -v mdb_dump >/dev/null && \
		command -v curl >/dev/null && command -v nats-server >/dev/null && command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
		echo "missing test dependencies; installing them (make deps)"; $(MAKE) --no-print-directory deps; }

deps:
	@SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	missing=; for p in $(DEB_BUILD) $(DEB_TEST); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if node --version >/dev/null 2>&1 && npm --version >/dev/null 2>&1; then \
		missing=$$(echo "$$missing" | sed 's/ nodejs//; s/ npm//'); fi; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "all dependencies present"; fi

check-fuzz-deps: check-deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "missing $(FUZZ_CC); installing it: $(DEB_FUZZ)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_FUZZ); }

# Nothing compiles before the build packages are there, also with make -j.
$(LIB_OBJ) $(BUILD)/wstape.o $(TEST_BIN) $(BENCH_BIN) $(FUZZ_REPLAY): | check-deps
$(FUZZ_OBJ) $(FUZZ_BIN): | check-fuzz-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/wstape.o $(LIB)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS) $(CMOCKA_LIBS) $(LDSAN)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIBS) $(LDSAN)

$(BUILD)/fuzz/%: fuzz/%.c fuzz/main.c fuzz/fuzz.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< fuzz/main.c $(LIB) $(LIBS) $(LDSAN)

# The fuzzers: the library compiled again with the fuzzer's instrumentation and sanitizers.
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libwstape.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_BUILD)/libwstape.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_BUILD)/libwstape.a $(LIBS)

fuzz-build: check-fuzz-deps $(FUZZ_BIN)

# Each harness for FUZZ_SECONDS on its corpus (fuzz/corpus/NAME; what it finds new goes to
# $(FUZZ_BUILD)/corpus/NAME, a crash to $(FUZZ_BUILD)/crashes/NAME), with its exec/s.
fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SKIP='$(FUZZ_SKIP)' bash fuzz/run.sh $(notdir $(FUZZ_BIN))

# after check-test-deps (which installs node and npm), never beside it (make -j)
# (again when tests/package-lock.json is newer than what was installed; a linked
# node_modules is only said to be stale: it is another checkout's)
node-deps: check-test-deps
	@if [ -f tests/package.json ] && [ ! -d tests/node_modules ]; then \
		echo "installing test peers from npm (tests/package.json)"; \
		cd tests && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ -f tests/package.json ] && [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then \
		if [ -L tests/node_modules ]; then \
			echo "tests/node_modules (a link) is older than tests/package-lock.json: run make node-deps where it points"; \
		else echo "updating test peers from npm (tests/package-lock.json changed)"; \
			cd tests && npm ci --no-audit --no-fund --loglevel=error; fi; fi

test: all check-test-deps $(TEST_BIN) $(BENCH_BIN) $(FUZZ_REPLAY) node-deps
	@BUILD=$(BUILD) WSTAPE=$(abspath $(BIN)) bash tests/run.sh

asan:
	$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

bench: all check-test-deps $(BENCH_BIN) node-deps
	@BUILD=$(BUILD) WSTAPE=$(abspath $(BIN)) bash bench/run.sh

demo: all
	@BUILD=$(BUILD) WSTAPE=$(abspath $(BIN)) bash fixtures/demo.sh

# ---- the installable library, man pages and bash completion (make install) ----
# libwstape: the journal reader and writer (journal/journal.h, journal/version.h) and the
# util/ code they use, compiled again position-independent (never with the sanitizers: a
# program links it as it is). It exports only what journal/libwstape.map lists; the .a is
# the same objects joined into one whose other symbols are made local. LIB_ABI is the ABI's
# version, apart from the release (VERSION): its major is the soname's and changes only
# with an incompatible change, its minor when functions are added, its patch for fixes.
VERSION     := $(shell sed -n 's/^\#define WSTAPE_VERSION_STRING "\(.*\)"/\1/p' journal/version.h)
LIB_ABI     := 1.1.0
LIB_SOMAJOR := $(firstword $(subst ., ,$(LIB_ABI)))
PUB_SRC     := $(wildcard journal/*.c) util/text.c
PUB_OBJ     := $(PUB_SRC:%.c=$(BUILD)/pic/%.o)
PUB_HDR     := journal/journal.h journal/version.h
PUB_DIR     := $(BUILD)/pub
PUB_SO      := $(PUB_DIR)/libwstape.so.$(LIB_ABI)
PUB_A       := $(PUB_DIR)/libwstape.a
PUB_CFLAGS   = -std=gnu11 $(WARN) $(if $(SAN),-O2 -g,$(CFLAGS)) -fPIC -I. -MMD -MP $(PKG_CFLAGS) -D_GNU_SOURCE
PUB_LIBS     = $(call lazy,PUB_LIBS,pkg-config --libs lmdb libzstd 2>/dev/null) -lpthread
MAN_DIR     := $(BUILD)/man
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

lib: $(PUB_SO) $(PUB_A)
man: $(MAN_DIR)/.made

$(PUB_OBJ): | check-deps
$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PUB_CFLAGS) -c $< -o $@

$(PUB_SO): $(PUB_OBJ) journal/libwstape.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libwstape.so.$(LIB_SOMAJOR) -Wl,--version-script=journal/libwstape.map \
		-Wl,-z,defs -o $@ $(PUB_OBJ) $(PUB_LIBS)
	ln -sf $(notdir $@) $(PUB_DIR)/libwstape.so.$(LIB_SOMAJOR)
	ln -sf libwstape.so.$(LIB_SOMAJOR) $(PUB_DIR)/libwstape.so

$(PUB_A): $(PUB_OBJ) journal/libwstape.map
	@mkdir -p $(dir $@)
	sed -n 's/^\t\([a-z0-9_]*\);$$/\1/p' journal/libwstape.map > $(PUB_DIR)/exports.txt
	$(LD) -r -o $(PUB_DIR)/wstape.o $(PUB_OBJ)
	objcopy --keep-global-symbols=$(PUB_DIR)/exports.txt $(PUB_DIR)/wstape.o
	@rm -f $@
	ar rcs $@ $(PUB_DIR)/wstape.o

# wstape(1) and wstape-CMD(1) for each command of `wstape --help`, from the --help texts;
# wstape-format(5) from docs/FORMAT.md
$(MAN_DIR)/.made: $(BIN) tools/help2roff.py tools/md2roff.py tools/roff.py docs/FORMAT.md
	@mkdir -p $(MAN_DIR) && rm -f $(MAN_DIR)/*.[15]
	/usr/bin/python3 tools/help2roff.py $(BIN) $(MAN_DIR)
	/usr/bin/python3 tools/md2roff.py docs/FORMAT.md wstape-format 5 "wstape $(VERSION)" > $(MAN_DIR)/wstape-format.5
	@touch $@

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/wstape \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/wstape
	install -m 0755 $(PUB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(PUB_SO)) $(DESTDIR)$(LIBDIR)/libwstape.so.$(LIB_SOMAJOR)
	ln -sf libwstape.so.$(LIB_SOMAJOR) $(DESTDIR)$(LIBDIR)/libwstape.so
	install -m 0644 $(PUB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(PUB_HDR) $(DESTDIR)$(INCLUDEDIR)/wstape/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
		journal/wstape.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/wstape.pc
	install -m 0644 $(MAN_DIR)/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN_DIR)/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 contrib/bash-completion/wstape $(DESTDIR)$(BASHCOMPDIR)/wstape

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wstape $(DESTDIR)$(LIBDIR)/libwstape.so* $(DESTDIR)$(LIBDIR)/libwstape.a \
		$(DESTDIR)$(LIBDIR)/pkgconfig/wstape.pc $(DESTDIR)$(MANDIR)/man1/wstape.1 \
		$(DESTDIR)$(MANDIR)/man1/wstape-*.1 $(DESTDIR)$(MANDIR)/man5/wstape-format.5 \
		$(DESTDIR)$(BASHCOMPDIR)/wstape
	rm -rf $(DESTDIR)$(INCLUDEDIR)/wstape

# what install-python put into PYDIR (the package and its metadata), nothing else
uninstall-python:
	rm -rf $(DESTDIR)$(PYDIR)/wstape $(DESTDIR)$(PYDIR)/wstape-*.dist-info

# the Python package (python/), offline, with Debian's pip and setuptools, into the
# dist-packages of PREFIX that Debian's python3 reads (PYDIR; under DESTDIR when set); it
# needs python3-lmdb and python3-zstandard at run time
PYDIR ?= $(shell /usr/bin/python3 -c 'import sys; p = sys.argv[1].rstrip("/"); \
	print(p + ("/lib/python3/dist-packages" if p == "/usr" else "/lib/python%d.%d/dist-packages" % sys.version_info[:2]))' $(PREFIX))
install-python:
	@/usr/bin/python3 -c 'import setuptools, pip' 2>/dev/null || { echo "installing python3-pip and python3-setuptools (make deps)"; \
		$(MAKE) --no-print-directory deps; }
	/usr/bin/python3 -m pip install --no-build-isolation --no-index --no-deps --upgrade --target $(DESTDIR)$(PYDIR) ./python
	@rm -rf python/build python/wstape.egg-info

# .clang-format over every C source and header in git (clang-format: Debian clang-format)
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	@command -v clang-format >/dev/null || { echo "clang-format is needed (apt-get install clang-format)"; exit 2; }
	clang-format -i $(FORMAT_SRC)

format-check:
	@command -v clang-format >/dev/null || { echo "clang-format is needed (apt-get install clang-format)"; exit 2; }
	@bad=0; for f in $(FORMAT_SRC); do clang-format "$$f" | cmp -s - "$$f" || { echo "not formatted: $$f (make format)"; bad=1; }; done; exit $$bad

clean:
	rm -rf build build-asan build-*

-include $(LIB_OBJ:.o=.d) $(BUILD)/wstape.d $(FUZZ_OBJ:.o=.d) $(PUB_OBJ:.o=.d)

# the systemd unit (contrib/wstape-record@.service, ExecStart pointed at BINDIR), the example
# of its env file and the Prometheus alert rules; only when asked (not part of `make install`):
#   make install-systemd            # as root, after make install
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SHAREDIR   ?= $(PREFIX)/share/wstape
install-systemd:
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SHAREDIR)
	sed 's|/usr/local/bin/wstape|$(BINDIR)/wstape|' contrib/wstape-record@.service \
		> $(DESTDIR)$(SYSTEMDDIR)/wstape-record@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/wstape-record@.service
	install -m 0644 contrib/wstape-record.env.example contrib/prometheus/wstape-alerts.yml $(DESTDIR)$(SHAREDIR)/

uninstall-systemd:
	rm -f $(DESTDIR)$(SYSTEMDDIR)/wstape-record@.service $(DESTDIR)$(SHAREDIR)/wstape-record.env.example \
		$(DESTDIR)$(SHAREDIR)/wstape-alerts.yml
	-rmdir $(DESTDIR)$(SHAREDIR) 2>/dev/null
