# tsrun — build, set-up and test entry points. README documents `make demo` and `make test`;
# .ci/run calls `make test` exactly as the README says.
SHELL := /bin/bash
.DEFAULT_GOAL := build
# A recipe that fails leaves no target behind: scripts/bundle.mjs writes dist/tsrun.js before it checks
# the snapshot's budget, and a second `make` then took the refused build for a good one.
.DELETE_ON_ERROR:

NODE_MODULES := node_modules/.package-lock.json
SHIM := native-bindings/build/libtsrun-shim.so
INIT := native-bindings/build/tsrun-init
# The command users run: a small static program that execs node on the snapshot (native-bindings/launcher.c).
LAUNCHER := bin/tsrun
BUNDLE := dist/tsrun.js
# bin/tsrun starts from this V8 startup snapshot of the CLI (see scripts/bundle.mjs) when its key (the
# node, CPU and blob it was made for; printed by the key tool, launcher.c built as a second program)
# matches this machine.
SNAPSHOT := dist/tsrun.blob
SNAPSHOT_KEY := dist/tsrun.blob.key
SNAPSHOT_KEY_TOOL := native-bindings/build/tsrun-snapshot-key

# Debian packages the project needs at build/test time (installed only when missing). zstd: the zstd
# layer tests compress with its CLI; procps: tests use pgrep. docker-registry (the CNCF distribution
# server), apache2-utils (htpasswd) and openssl: the registry tests run a real registry on 127.0.0.1,
# with basic auth and a self-signed certificate. graphviz: `dot` checks `tsrun inspect --dot` (and
# renders it for a learner); libcap2-bin: capsh and getpcaps decode capability sets in lab 12.
# containernetworking-plugins, iptables, curl: the network tests run tsrun's CNI networks (bridge, portmap,
# firewall) in a namespace of their own and reach them with curl.
# containerd: the client tests and docs/kubernetes.md's config run a private containerd.
# uidmap: newuidmap/newgidmap map a rootless container's subordinate ids (test/integration/rootless).
DEB_PACKAGES := build-essential busybox-static runc crun hyperfine strace umoci skopeo util-linux iproute2 podman conmon jq python3 zstd procps docker-registry apache2-utils openssl graphviz libcap2-bin containerd uidmap containernetworking-plugins iptables curl buildah slirp4netns passt

.PHONY: deps deb-deps npm-deps build native bundle typecheck test test-unit test-integration test-api demo clean

# Fragments per concern (samples, images, VM lane, benchmarks, conformance). Included before the rules
# below because `test` names variables they define (TEST_VM_TARGET) as prerequisites.
include $(sort $(wildcard mk/*.mk))

deps: deb-deps npm-deps

deb-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

npm-deps: $(NODE_MODULES)
$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: native bundle

native: $(SHIM) $(INIT) $(LAUNCHER) $(SNAPSHOT_KEY_TOOL)
$(SHIM): native-bindings/shim.c native-bindings/shim.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -fPIC -shared -D_GNU_SOURCE -o $@ native-bindings/shim.c
# The same code as a static program: the container's first process execs it right after the clone
# (see spawn_init in shim.c). Static, so it starts without the dynamic loader.
# init-modes.c: its other jobs, a container's PID 1 (`init`) and a session's reaper (`reap`).
$(INIT): native-bindings/shim.c native-bindings/shim.h native-bindings/init-modes.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -static -Wall -Wextra -Werror -D_GNU_SOURCE -DTSRUN_INIT_PROGRAM -o $@ native-bindings/shim.c native-bindings/init-modes.c

# Its start is paid by every command, so it is built without libc where launcher.c has a _start for
# the CPU (see the comment at its top); elsewhere on libc's syscall(2). -fno-tree-loop-distribute-patterns:
# gcc would otherwise turn the loop of its own memcpy into a call to memcpy.
LAUNCHER_CFLAGS := $(if $(filter x86_64,$(shell uname -m)),-nostdlib -ffreestanding -fno-stack-protector -fno-tree-loop-distribute-patterns,-DTSRUN_LAUNCHER_LIBC)
$(LAUNCHER): native-bindings/launcher.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static $(LAUNCHER_CFLAGS) -Wall -Wextra -Werror -o $@ native-bindings/launcher.c
$(SNAPSHOT_KEY_TOOL): native-bindings/launcher.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static $(LAUNCHER_CFLAGS) -DTSRUN_SNAPSHOT_KEY_TOOL -Wall -Wextra -Werror -o $@ native-bindings/launcher.c

# The snapshot is also remade when it no longer fits this machine (node upgraded, dist/ made on another
# CPU): the key tool then prints another key than the recorded one. (bin/tsrun runs the plain bundle
# meanwhile; this only restores the fast start.)
SNAPSHOT_STALE := $(shell [ -x $(SNAPSHOT_KEY_TOOL) ] && [ -f $(SNAPSHOT) ] && \
  { $(SNAPSHOT_KEY_TOOL) "$$(command -v node)" $(SNAPSHOT) 2>/dev/null | cmp -s - $(SNAPSHOT_KEY) || echo snapshot-stale; })
.PHONY: snapshot-stale
snapshot-stale:
bundle: $(BUNDLE)
$(BUNDLE) $(SNAPSHOT) $(SNAPSHOT_KEY) &: $(NODE_MODULES) $(shell find src -name '*.ts' 2>/dev/null) scripts/bundle.mjs tsconfig.api.json \
    $(SNAPSHOT_KEY_TOOL) $(SNAPSHOT_STALE)
	node scripts/bundle.mjs

typecheck: $(NODE_MODULES)
	npx tsc --noEmit -p .

VITEST := npx vitest run --reporter=default --reporter=json

test-unit: npm-deps
	$(VITEST) --project unit --outputFile.json=test-results/unit.json

test-integration: build samples
	$(VITEST) --project integration --outputFile.json=test-results/integration.json

test-api: build samples
	$(VITEST) --project api --outputFile.json=test-results/api.json

# Host tests: unit (no root), integration (real containers, as root) and api (the library, in-process).
test-host: deps build samples typecheck
	-rm -rf test-results
	$(VITEST) --project unit --project integration --project api --outputFile.json=test-results/host.json; \
	  node scripts/test-summary.mjs test-results/host.json

# The one test command (README, .ci/run): everything, from a fresh machine. The VM lane (mk/vm.mk)
# adds its own results; the summary line counts both.
test: test-host $(TEST_VM_TARGET)
	node scripts/test-summary.mjs test-results/host.json $(TEST_VM_RESULTS)

# A first container: the sample bundle's shell reads these commands from stdin.
demo: deps build samples
	@printf '%s\n' 'echo "hello from PID $$$$ in a container called $$(hostname)"' 'echo "processes I can see:"; ps' \
	  'echo "my mounts:"; cat /proc/self/mounts | cut -d" " -f1-3' | ./bin/tsrun run --bundle rootfs-samples/build/busybox

clean:
	rm -rf dist native-bindings/build rootfs-samples/build test-results $(LAUNCHER)

