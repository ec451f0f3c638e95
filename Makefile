# Supervisor in Rust. `make test` is the one test command.
# Plain make; POSIX-friendly where possible.

CARGO ?= cargo
PYTHON ?= python3
VENV := target/venv
VENV_STAMP := $(VENV)/.installed-4.2.5
# The reference implementation and the listeners used by interop tests.
REF_PKGS := supervisor==4.2.5 superlance==2.0.0 'setuptools<70'

.PHONY: all build test venv clean clippy fmt

all: build

build:
	$(CARGO) build --release --bins

# The reference implementation in a venv under target/, for interop tests.
venv: $(VENV_STAMP)

$(VENV_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(REF_PKGS)
	touch $@

test: $(VENV_STAMP)
	$(CARGO) build --bins
	SUPERVISOR_VENV=$(CURDIR)/$(VENV) $(CARGO) test -- --test-threads=4

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
