# Supervisor in Rust. `make` builds, `make test` tests, `make run` demos.
# Plain make; POSIX-friendly where possible.

CARGO ?= cargo
PYTHON ?= python3
INSTALL ?= install
VENV := target/venv
VENV_STAMP := $(VENV)/.installed-4.2.5
# The reference implementation and the listeners used by interop tests.
REF_PKGS := supervisor==4.2.5 superlance==2.0.0 'setuptools<70'

# Installation layout (GNU conventions). DESTDIR is prepended to every path.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# Where the installed config includes per-program files from.
CONFDDIR ?= $(SYSCONFDIR)/supervisor/conf.d
DESTDIR ?=

TOOLS := supervisord supervisorctl echo_supervisord_conf pidproxy
MAN1 := supervisorctl.1 echo_supervisord_conf.1 pidproxy.1
MAN5 := supervisord.conf.5
MAN8 := supervisord.8
RELEASE := target/release
BINS := $(RELEASE)/supervisord $(RELEASE)/supervisorctl \
	$(RELEASE)/echo_supervisord_conf $(RELEASE)/pidproxy
CONF_DEST := $(DESTDIR)$(SYSCONFDIR)/supervisord.conf
# The config `make install` writes: conf/supervisord.conf including
# CONFDDIR. `make uninstall` removes the installed file only if it is
# still exactly this text.
GEN_CONF := sed 's|/etc/supervisor/conf.d|$(CONFDDIR)|g' conf/supervisord.conf
# Target triple of `make static`; empty means the host's.
STATIC_TARGET ?=

.PHONY: all build install uninstall test venv man-tools bench static size \
	run clean clippy fmt browser-deps

all: build

build:
	$(CARGO) build --release --bins

# Installs what `make` built (and builds only if nothing is there, so that
# `sudo make install` does not run cargo as root over a built tree).
$(BINS):
	$(CARGO) build --release --bins

install: $(BINS)
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" \
		"$(DESTDIR)$(MANDIR)/man5" "$(DESTDIR)$(MANDIR)/man8"
	for t in $(TOOLS); do \
		$(INSTALL) -m 0755 "$(RELEASE)/$$t" "$(DESTDIR)$(BINDIR)/$$t" || exit 1; \
	done
	for m in $(MAN1); do $(INSTALL) -m 0644 "man/$$m" "$(DESTDIR)$(MANDIR)/man1/$$m" || exit 1; done
	for m in $(MAN5); do $(INSTALL) -m 0644 "man/$$m" "$(DESTDIR)$(MANDIR)/man5/$$m" || exit 1; done
	for m in $(MAN8); do $(INSTALL) -m 0644 "man/$$m" "$(DESTDIR)$(MANDIR)/man8/$$m" || exit 1; done
	@if [ -e "$(CONF_DEST)" ]; then \
		echo "keeping the existing $(CONF_DEST)"; \
	else \
		$(INSTALL) -d "$(DESTDIR)$(SYSCONFDIR)" && \
		$(GEN_CONF) > "$(CONF_DEST)" && chmod 0644 "$(CONF_DEST)" && \
		echo "installed $(CONF_DEST)"; \
	fi

uninstall:
	for t in $(TOOLS); do rm -f "$(DESTDIR)$(BINDIR)/$$t"; done
	for m in $(MAN1); do rm -f "$(DESTDIR)$(MANDIR)/man1/$$m"; done
	for m in $(MAN5); do rm -f "$(DESTDIR)$(MANDIR)/man5/$$m"; done
	for m in $(MAN8); do rm -f "$(DESTDIR)$(MANDIR)/man8/$$m"; done
	@if [ ! -e "$(CONF_DEST)" ]; then :; \
	elif $(GEN_CONF) | cmp -s - "$(CONF_DEST)"; then \
		rm -f "$(CONF_DEST)" && echo "removed $(CONF_DEST)"; \
	else \
		echo "keeping $(CONF_DEST): it was there before or has been edited"; \
	fi

# The reference implementation in a venv under target/, for interop tests.
venv: $(VENV_STAMP)

$(VENV_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(REF_PKGS)
	touch $@

# Headless Chromium and its WebDriver for tests/web_browser.rs: Debian
# packages, installed (non-interactively) only when missing.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
BROWSER_PKGS := chromium chromium-driver fonts-dejavu-core

browser-deps:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS); \
	fi

# tests/manpages.rs lints the man pages with groff; make sure it is there.
man-tools:
	@command -v groff >/dev/null 2>&1 || { \
		echo "groff is needed to lint the man pages; installing groff-base"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y groff-base || \
			{ apt-get update && apt-get install -y groff-base; }; \
		else \
			echo "error: install groff (Debian/Ubuntu: apt-get install groff-base)" >&2; \
			exit 1; \
		fi; }

test: $(VENV_STAMP) browser-deps man-tools
	$(CARGO) build --bins
	SUPERVISOR_VENV=$(CURDIR)/$(VENV) $(CARGO) test -- --test-threads=4

# Benchmarks (footprint figures for the README) live in tests/bench/run.
bench:
	@if [ ! -x tests/bench/run ]; then \
		echo "make bench: tests/bench/run is missing or not executable" >&2; \
		exit 1; \
	fi
	$(CARGO) build --release --bins
	SUPERVISOR_BIN_DIR=$(CURDIR)/$(RELEASE) tests/bench/run

# Statically linked binaries in target/<triple>/release. The explicit
# --target keeps crt-static away from build scripts. With glibc, user and
# group lookups (user=, chown=) still load the NSS modules of the glibc
# used to build; STATIC_TARGET=x86_64-unknown-linux-musl avoids that.
static:
	@target="$(STATIC_TARGET)"; \
	[ -n "$$target" ] || target=$$(rustc -vV | sed -n 's/^host: //p'); \
	echo "RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --bins --target $$target"; \
	RUSTFLAGS="-C target-feature=+crt-static" \
		$(CARGO) build --release --bins --target "$$target" || exit 1; \
	dir="target/$$target/release"; \
	for t in $(TOOLS); do \
		f="$$dir/$$t"; \
		if command -v file >/dev/null 2>&1; then \
			case "$$(file -b "$$f")" in \
			*"statically linked"* | *"static-pie linked"*) ;; \
			*) echo "error: $$f is not static: $$(file -b "$$f")" >&2; exit 1 ;; \
			esac; \
		fi; \
		case "$$(ldd "$$f" 2>&1)" in \
		*"statically linked"* | *"not a dynamic executable"*) ;; \
		*) echo "error: $$f is dynamically linked: $$(ldd "$$f" 2>&1)" >&2; exit 1 ;; \
		esac; \
		printf '%-24s %9s bytes\n' "$$t" "$$(wc -c < "$$f" | tr -d ' ')"; \
	done; \
	"$$dir/supervisord" -v >/dev/null && \
	"$$dir/supervisorctl" -h >/dev/null && \
	"$$dir/echo_supervisord_conf" | grep -q 'Sample supervisor config file' && \
	{ "$$dir/pidproxy" >/dev/null; [ $$? -eq 1 ]; } && \
	echo "static binaries in $$dir run" || \
	{ echo "error: a static binary in $$dir failed to run" >&2; exit 1; }

size: build
	@for t in $(TOOLS); do \
		printf '%-24s %9s bytes\n' "$$t" "$$(wc -c < "$(RELEASE)/$$t" | tr -d ' ')"; \
	done

# A demo: supervisord in the foreground with a few toy programs. In another
# terminal: target/release/supervisorctl -c conf/demo.conf status
run: build
	$(RELEASE)/supervisord -c conf/demo.conf

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
