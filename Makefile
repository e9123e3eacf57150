# Eventos: `make up` runs the platform, `make test` proves it works.
# Both install what a fresh machine is missing (wasm targets, PostgreSQL) first.

CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
COMPONENTS := users events participation tickets status
TEST_GUESTS := probe
EVENTOS := target/release/eventos
LISTEN ?= 127.0.0.1:3000
# The black-box tests are a few binaries, a folder each under host/tests/; each
# binary's main.rs says where it runs in a `// runtimes:` line: `eventos` (`cargo
# test` runs them all), `spin` (again under real Spin 3.6.3, SPIN, and Spin 4.0,
# SPIN4) and `node` (again on containerd with containerd-shim-spin, NODE_BIN,
# each domain in a container of its own).
runs_on = $(sort $(notdir $(patsubst %/main.rs,%,$(shell grep -lE '^// runtimes:.* $(1)( |$$)' host/tests/*/main.rs))))
BOTH_RUNTIMES := $(call runs_on,spin)
NODE_TESTS := $(call runs_on,node)

.PHONY: up test setup build components host lint unit fuzz chaos bench push deploy

up: build
	$(EVENTOS) up --no-build --listen $(LISTEN)

test: setup components host lint unit
	$(CARGO) test --release -p eventos --tests
	CARGO=$(CARGO) scripts/test-on-spin.sh $(BOTH_RUNTIMES)
	CARGO=$(CARGO) scripts/test-on-node.sh $(NODE_TESTS)
	python3 scripts/chaos.py --duration 10 --kills 3 --db-restarts 1
	$(CARGO) build --release -p eventos-bench
	python3 bench/bench.py --seconds 1 --pairs 2 --quiet

build: setup components host

setup:
	@scripts/setup.sh

# tickets is a native library too (the bench's native peer runs its sale's
# statements), so its crate type is rlib and its component is asked for by name.
components: setup
	$(CARGO) build --profile component --target $(WASM_TARGET) $(addprefix -p ,$(filter-out tickets,$(COMPONENTS)) $(TEST_GUESTS))
	$(CARGO) rustc --profile component --target $(WASM_TARGET) -p tickets --crate-type cdylib

host:
	$(CARGO) build --release -p eventos

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -p eventos -p eventos-common -p eventos-dev-token -p eventos-address -- -D warnings
	$(CARGO) clippy --release --target $(WASM_TARGET) $(addprefix -p ,$(COMPONENTS) $(TEST_GUESTS)) -- -D warnings

# Domain rules run natively; they do not need the host.
unit:
	$(CARGO) test --release $(addprefix -p ,$(COMPONENTS)) -p eventos-common -p eventos-dev-token -p eventos-address --lib

# The application as an OCI artifact (what `spin registry push` makes), at
# $(REGISTRY)/eventos:$(TAG); INSECURE=1 for a plain-HTTP registry on this machine.
TAG ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo latest)
push: build
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=host[:port][/path] [TAG=...] [INSECURE=1]"; exit 2; }
	$(EVENTOS) registry push $(REGISTRY)/eventos:$(TAG) --no-build $(if $(INSECURE),--insecure)

# Push, pin the digest in k8s/overlays/$(OVERLAY), apply it server-side and wait
# for every domain (scripts/deploy.sh); DRY_RUN=server has the API server judge it
# and store nothing, DRY_RUN=1 plans it with kubectl --dry-run=client;
# IMAGE=<registry/eventos@sha256:...> deploys an earlier artifact (a rollback);
# ROTATE_DB_CA=1 replaces the databases' CA.
OVERLAY ?= dev
deploy: build
	@test -n "$(REGISTRY)$(IMAGE)" || { echo "usage: make deploy REGISTRY=host[:port][/path] [OVERLAY=dev|prod] [INSECURE=1] [DRY_RUN=1|server] [IMAGE=registry/eventos@sha256:...] [ROTATE_DB_CA=1]"; exit 2; }
	OVERLAY=$(OVERLAY) TAG=$(TAG) EVENTOS=$(EVENTOS) scripts/deploy.sh

# A longer schemathesis run than the one in `make test`: 200 examples per
# operation (EXAMPLES), from seed SEED, on the test's own platform.
EXAMPLES ?= 200
SEED ?= 1
fuzz: build
	EVENTOS_FUZZ_EXAMPLES=$(EXAMPLES) EVENTOS_FUZZ_SEED=$(SEED) $(CARGO) test --release -p eventos --test platform -- api_contract::schemathesis --nocapture

# The chaos drill: a minute of concurrent clients while the host is SIGKILLed six
# times and PostgreSQL is stopped hard once; nothing acknowledged may be lost.
# Then the hostile drill for a minute: an on-sale with bad webhook receivers and
# a database at its connection limit for a while (host/tests/platform/hostile_drill.rs);
# and a minute of the node's drill (host/tests/platform/node_drill.rs; with NODE_BIN).
chaos: build
	python3 scripts/chaos.py --duration 60 --kills 6 --db-restarts 1
	EVENTOS_DRILL_SECONDS=60 $(CARGO) test --release -p eventos --test platform hostile_drill::
	EVENTOS_DRILL_SECONDS=60 CARGO=$(CARGO) scripts/test-on-node.sh platform -- node_drill::

# The benchmark suite (BENCHMARKS.md): release build, fresh databases, one table.
bench: build
	$(CARGO) build --release -p eventos-bench
	python3 bench/bench.py
