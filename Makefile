# Supervisor in Rust. `make test` is the one test command.
# Plain make; POSIX-friendly where possible.

CARGO ?= cargo
PYTHON ?= python3
VENV := target/venv
VENV_STAMP := $(VENV)/.installed-4.2.5
# The reference implementation and the listeners used by interop tests.
REF_PKGS := supervisor==4.2.5 superlance==2.0.0 'setuptools<70'

.PHONY: all build test venv clean clippy fmt browser-deps

all: build

build:
	$(CARGO) build --release --bins

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

test: $(VENV_STAMP) browser-deps
	$(CARGO) build --bins
	SUPERVISOR_VENV=$(CURDIR)/$(VENV) $(CARGO) test -- --test-threads=4

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
