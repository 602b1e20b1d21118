# ngx_qocr: build and test.
#
#   make            the dynamic module build/dyn/ngx_http_qocr_module.so,
#                   against Debian's nginx (package nginx-dev)
#   make test       that module under the test suite (prove -r t/)
#   make static     nginx built from Debian's nginx source with the module
#                   compiled in (--add-module): build/static/nginx
#   make test-static  the test suite against that binary
#   make run        nginx with the module on the example config, offline,
#                   against the local fake OCR service (see README)
#
# Every target installs the Debian packages it needs when they are missing.

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
NGX_SRC     := /usr/share/nginx/src
MODULE      := $(BUILD)/dyn/ngx_http_qocr_module.so
STATIC_NGX  := $(BUILD)/static/nginx
UNIT        := $(BUILD)/unit/sign-kat
SOURCES     := config $(wildcard ngx_qocr_module/*.c ngx_qocr_module/*.h)

# Debian's compiler and linker flags for nginx, as "nginx -V" shows them
DEB_CC_OPT  := -g -O2 -fstack-protector-strong -Wformat \
               -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
DEB_LD_OPT  := -Wl,-z,relro -Wl,-z,now -fPIC

BUILD_PKGS  := nginx nginx-dev libssl-dev libcjson-dev libpcre2-dev dpkg-dev \
               zlib1g-dev
TEST_PKGS   := curl perl

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

.PHONY: all deps test static test-static unit run clean

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

# nginx from Debian's own source package, the module compiled in

$(BUILD)/static/src/configure: | deps
	@bash t/tools/nginx-source $(BUILD)/static/src

$(STATIC_NGX): $(SOURCES) $(BUILD)/static/src/configure
	cd $(BUILD)/static/src && ./configure \
	    --prefix=$(BUILD)/static/prefix \
	    --with-cc-opt="$(DEB_CC_OPT)" --with-ld-opt="$(DEB_LD_OPT)" \
	    --with-debug --with-http_ssl_module --with-http_v2_module \
	    --add-module=$(TOP) --builddir=$(BUILD)/static/objs \
	    > $(BUILD)/static/configure.log 2>&1 \
	  || { tail -30 $(BUILD)/static/configure.log; exit 1; }
	$(MAKE) -C $(BUILD)/static/src -f $(BUILD)/static/objs/Makefile binary
	cp $(BUILD)/static/objs/nginx $(STATIC_NGX)

static: $(STATIC_NGX)

# unit programs: the module's plain functions linked with the objects of the
# static build, nginx's own main() renamed out of the way

NGX_INCS    := -I src/core -I src/event -I src/event/modules -I src/os/unix \
               -I src/http -I src/http/modules -I src/http/v2 \
               -I $(BUILD)/static/objs -I $(TOP)/ngx_qocr_module
NGX_LIBS    := -lcrypt -lcjson -lcrypto -lpcre2-8 -lssl -lz

$(BUILD)/unit/objs.a: $(STATIC_NGX)
	@mkdir -p $(BUILD)/unit
	objcopy --redefine-sym main=ngx_nginx_main \
	    $(BUILD)/static/objs/src/core/nginx.o $(BUILD)/unit/nginx-nomain.o
	rm -f $@
	ar rcs $@ $$(find $(BUILD)/static/objs -name '*.o' \
	    ! -path '*/src/core/nginx.o') $(BUILD)/unit/nginx-nomain.o

$(BUILD)/unit/%: t/unit/%.c $(BUILD)/unit/objs.a
	cd $(BUILD)/static/src && $(CC) $(DEB_CC_OPT) -Wall -Werror \
	    $(NGX_INCS) -o $@ $(TOP)/$< $(BUILD)/unit/objs.a $(NGX_LIBS)

unit: $(UNIT)

test-static: $(STATIC_NGX) $(UNIT)
	QOCR_NGINX=$(STATIC_NGX) QOCR_MODULE= prove -r t/

run: $(MODULE)
	@bash t/tools/run-example

clean:
	rm -rf $(BUILD)
