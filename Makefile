# pybpfmap: the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing (Debian packages, the vendored libbpf, a venv).

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
APT_PACKAGES := clang llvm libelf-dev zlib1g-dev pkg-config bpftool libbpf-dev make gcc dpkg-dev \
                python3-dev python3-venv util-linux
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BUILD_INPUTS := pyproject.toml setup.py build_ffi.py $(wildcard pybpfmap/_cdefs/*.h pybpfmap/_csrc/*.c pybpfmap/bpf/*.c) \
                pybpfmap/_version.py

.PHONY: all deps apt libbpf venv mounts test demo bench clean

all: venv

deps: apt libbpf

# Debian packages, installed only when one is missing (idempotent).
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The vendored libbpf 1.5.0 (git submodule, or Debian's source package).
libbpf:
ifneq ($(PYBPFMAP_LIBBPF),system)
	@./scripts/fetch-libbpf.sh
endif

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -U pip

$(VENV)/.installed: $(VPY) $(BUILD_INPUTS) | deps
	@echo "building pybpfmap into $(VENV) (log: $(VENV)/build.log)"
	@$(VPY) -m pip install -q -e '.[test]' > $(VENV)/build.log 2>&1 || { cat $(VENV)/build.log; exit 1; }
	@# optional: atheris for tests/test_reliability_fuzz.py, only where PyPI has a wheel
	-@$(VPY) -m pip install -q --only-binary :all: atheris >> $(VENV)/build.log 2>&1
	$(VPY) -c "import pybpfmap; print('pybpfmap', pybpfmap.__version__, 'on libbpf', pybpfmap.libbpf_version())"
	@touch $@

venv: deps $(VENV)/.installed

# bpffs and tracefs, mounted when missing (needs root).
mounts:
	@./scripts/mounts.sh

test: venv mounts
	$(VPY) -m pytest tests -q

demo: venv mounts
	$(VPY) -m pybpfmap demo

bench: venv mounts
	$(VPY) benchmarks/run.py

clean:
	rm -rf build $(VENV) pybpfmap/_libbpf*.so pybpfmap/_libbpf.c *.egg-info tests/bpf/.build
