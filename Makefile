# ngx_qocr: build and test.
#
#   make            the dynamic module build/dyn/ngx_http_qocr_module.so,
#                   against Debian's nginx (package nginx-dev)
#   make test       that module under the test suite (prove -r t/)
#   make static     nginx built from Debian's nginx source with the module
#                   compiled in (--add-module): build/static/nginx
#   make test-static  the test suite against that binary
#   make test-asan  the test suite against nginx and the module built with
#                   AddressSanitizer and UndefinedBehaviorSanitizer
#   make test-valgrind  the test suite with nginx under valgrind memcheck
#   make fuzz       every fuzzer for FUZZ_SECONDS (default 60) each
#   make bench      the benchmarks of bench/README.md (bench/bench)
#   make run        nginx with the module on the example config, offline,
#                   against the local fake OCR service (see README)
#   make deb        the Debian package build/libnginx-mod-http-qocr_*.deb
#                   (dh-sequence-nginx), checked by lintian
#   make matrix     the module against every maintained nginx line,
#                   static and dynamic, -Werror; the suite on 1.26 and
#                   mainline (t/tools/matrix)
#
# Every target installs the Debian packages it needs when they are missing.

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
NGX_SRC     := /usr/share/nginx/src
MODULE      := $(BUILD)/dyn/ngx_http_qocr_module.so
QOCR_CACHE  ?= /var/tmp/qocr-cache
STATIC_DIR  := $(QOCR_CACHE)/static
STATIC_NGX  := $(STATIC_DIR)/nginx
ASAN_DIR    := $(QOCR_CACHE)/asan
ASAN_NGX    := $(ASAN_DIR)/nginx
UNIT        := $(BUILD)/unit/sign-kat $(BUILD)/unit/tc3-kat
SOURCES     := config $(wildcard ngx_qocr_module/*.c ngx_qocr_module/*.h)

# Debian's compiler and linker flags for nginx, as "nginx -V" shows them
DEB_CC_OPT  := -g -O2 -fstack-protector-strong -Wformat \
               -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
DEB_LD_OPT  := -Wl,-z,relro -Wl,-z,now -fPIC

# AddressSanitizer and UndefinedBehaviorSanitizer, pool allocations checked
# one by one, and libFuzzer's coverage so the same objects serve the fuzzers
ASAN_CC_OPT := -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined,fuzzer-no-link \
               -DNGX_DEBUG_PALLOC=1
ASAN_LD_OPT := -fsanitize=address,undefined

BUILD_PKGS  := nginx nginx-dev libssl-dev libcjson-dev libpcre2-dev dpkg-dev \
               zlib1g-dev
TEST_PKGS   := curl perl procps openssl ca-certificates libio-socket-ssl-perl \
               wrk libnginx-mod-http-echo valgrind
ASAN_PKGS   := clang-14 libclang-rt-14-dev libfuzzer-14-dev
DEB_PKGS    := build-essential debhelper dpkg-dev lintian nginx-dev \
               libcjson-dev libssl-dev

APT_INSTALL = missing=; for p in $(1); do \
                dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
                  | grep -q 'ok installed' || missing="$$missing $$p"; \
              done; \
              if [ -n "$$missing" ]; then \
                echo "installing:$$missing"; \
                $(SUDO) apt-get update -qq && \
                DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install \
                  -y -qq --no-install-recommends $$missing >/dev/null; \
              fi

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps asan-deps test static test-static test-asan test-valgrind \
        unit bench soak fuzz fuzz-build run clean deb matrix

all: $(MODULE)

deps:
	@$(call APT_INSTALL,$(BUILD_PKGS) $(TEST_PKGS))

$(MODULE): $(SOURCES) | deps
	@mkdir -p $(BUILD)/dyn
	@echo "configuring against Debian's nginx $$(dpkg-query -W -f='$${Version}' nginx-dev)"
	cd $(NGX_SRC) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(DEB_CC_OPT)" --with-ld-opt="$(DEB_LD_OPT)" \
	    --add-dynamic-module=$(TOP) --builddir=$(BUILD)/dyn \
	    > $(BUILD)/dyn/configure.log 2>&1 \
	  || { tail -30 $(BUILD)/dyn/configure.log; exit 1; }
	$(MAKE) -C $(NGX_SRC) -f $(BUILD)/dyn/Makefile modules
	@ls -l $(MODULE)

test: $(MODULE) $(UNIT)
	prove -r t/

# nginx from Debian's own source package with the module compiled in
# (--add-module), built in the machine's cache so that a second run, from any
# checkout, recompiles only the module (t/tools/ngx-build).
# $(call NGX_BUILD,dir,cc,cc-opt,ld-opt)

define NGX_BUILD
$(1)/src/configure: | deps
	@bash t/tools/nginx-source $(1)/src

$(1)/nginx: $(SOURCES) $(1)/src/configure
	@bash t/tools/ngx-build $(1) $(2) "$(3)" "$(4)"
endef

$(eval $(call NGX_BUILD,$(STATIC_DIR),cc,$(DEB_CC_OPT),$(DEB_LD_OPT)))
$(eval $(call NGX_BUILD,$(ASAN_DIR),clang-14,$(ASAN_CC_OPT),$(ASAN_LD_OPT)))

static: $(STATIC_NGX)

# unit programs: the module's plain functions linked with the objects of the
# static build, nginx's own main() renamed out of the way

NGX_INCS     = -I src/core -I src/event -I src/event/modules -I src/os/unix \
               -I src/http -I src/http/modules -I src/http/v2 \
               -I $(1)/objs -I $(TOP)/ngx_qocr_module
NGX_LIBS    := -lcrypt -lcjson -lcrypto -lpcre2-8 -lssl -lz

# the objects of a build but nginx's main(): $(call NGX_OBJS,build dir,out)
define NGX_OBJS
	@mkdir -p $(dir $(2))
	objcopy --redefine-sym main=ngx_nginx_main \
	    $(1)/objs/src/core/nginx.o $(dir $(2))nginx-nomain.o
	rm -f $(2)
	ar rcs $(2) $$(find $(1)/objs -name '*.o' \
	    ! -path '*/src/core/nginx.o') $(dir $(2))nginx-nomain.o
endef

$(BUILD)/unit/objs.a: $(STATIC_NGX)
	$(call NGX_OBJS,$(STATIC_DIR),$@)

$(BUILD)/unit/%: t/unit/%.c $(BUILD)/unit/objs.a
	cd $(STATIC_DIR)/src && $(CC) $(DEB_CC_OPT) -Wall -Werror \
	    $(call NGX_INCS,$(STATIC_DIR)) -o $@ $(TOP)/$< \
	    $(BUILD)/unit/objs.a $(NGX_LIBS)

unit: $(UNIT)

test-static: $(STATIC_NGX) $(UNIT)
	QOCR_NGINX=$(STATIC_NGX) QOCR_MODULE= prove -r t/

asan-deps:
	@$(call APT_INSTALL,$(ASAN_PKGS))

$(ASAN_DIR)/src/configure: | asan-deps

# the suite with nginx (Debian's, the dynamic module) under valgrind memcheck

test-valgrind: $(MODULE) $(UNIT)
	@$(call APT_INSTALL,valgrind)
	QOCR_VALGRIND=1 prove -r t/

# the benchmarks (not part of the tests; t/20-bench-smoke.t runs them tiny)

bench: $(MODULE)
	perl bench/bench

# 10 minutes of mixed load against one worker (not part of the tests)

soak: $(MODULE)
	perl bench/soak 600 16

# fuzzers: libFuzzer over the module's parsers, with the sanitizer build

FUZZERS      := multipart urls reply sign
FUZZ_BINS    := $(FUZZERS:%=$(BUILD)/fuzz/fuzz-%)
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/objs.a: $(ASAN_NGX)
	$(call NGX_OBJS,$(ASAN_DIR),$@)

$(BUILD)/fuzz/fuzz-%: t/fuzz/fuzz-%.c t/fuzz/fuzz.h $(BUILD)/fuzz/objs.a
	cd $(ASAN_DIR)/src && clang-14 -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -DNGX_DEBUG_PALLOC=1 \
	    -Wall -Werror -Wno-unused-function -Wno-unused-parameter \
	    $(call NGX_INCS,$(ASAN_DIR)) -I $(TOP)/t/fuzz -o $@ $(TOP)/$< \
	    $(BUILD)/fuzz/objs.a $(NGX_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@bash t/tools/run-fuzzers $(FUZZ_SECONDS) $(FUZZERS)

test-asan: $(ASAN_NGX) $(UNIT)
	QOCR_NGINX=$(ASAN_NGX) QOCR_MODULE= QOCR_SANITIZED=1 \
	ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0 \
	UBSAN_OPTIONS=print_stacktrace=1:suppressions=$(TOP)/t/sanitizers/ubsan.supp \
	prove -r t/

run: $(MODULE)
	@bash t/tools/run-example

# the Debian package: dpkg-buildpackage -b on a copy in build/deb/, against
# Debian's nginx (dh-sequence-nginx), then lintian (t/tools/deb-build);
# t/tools/deb-test installs it in the system nginx, tests it and purges it

deb:
	@$(call APT_INSTALL,$(DEB_PKGS))
	@bash t/tools/deb-build

# every maintained nginx line (Debian's 1.22, ../shared/nginx/*.tar.gz),
# static and --with-compat dynamic, -Werror, each started with a qocr
# location; the suite against the static 1.26 and mainline
# (t/tools/matrix; builds kept in $(QOCR_CACHE)/matrix)

matrix: $(UNIT)
	QOCR_CC_OPT="$(DEB_CC_OPT)" QOCR_LD_OPT="$(DEB_LD_OPT)" \
	    bash t/tools/matrix

clean:
	rm -rf $(BUILD)
