# The VM lane: a qemu (TCG) guest with a pure cgroup v2 kernel, for the limits these hybrid-cgroup hosts
# cannot apply. See vm/README.md. Boot files are cached in vm/build (rebuilt only when missing or when
# vm/guest/* changed); `make vm-clean` drops them.
.PHONY: vm-image test-vm test-vm-report test-vm-systemd vm-clean

# Seconds before the VM is killed (vm/run.sh exits 124).
VM_TIMEOUT ?= 1200
# Extra vitest arguments, e.g. make test-vm VM_VITEST_ARGS='-t freeze'
VM_VITEST_ARGS ?=

# The CPU model of a second, short run of the lane: test/vm/launcher-cpu.test.ts alone, on a CPU with
# fewer features than the host's (no AVX, BMI or LZCNT), so that bin/tsrun meets a startup snapshot
# built for another CPU (issue 13). Empty: no second run.
VM_REDUCED_CPU ?= Nehalem

# The systemd lane: the same VM booted with the host's systemd as PID 1 (vm/run.sh --systemd), for
# tsrun's systemd cgroup driver and the clients that use it (podman, containerd). These files skip
# themselves without systemd as PID 1, and the plain lane leaves them out. Empty: no systemd run.
VM_SYSTEMD_TESTS ?= $(sort $(wildcard test/vm/*systemd*.test.ts))

# Used by the top-level `make test`: it runs $(TEST_VM_TARGET) after the host tests and counts the
# vitest JSON reports $(TEST_VM_RESULTS) in its summary line.
TEST_VM_TARGET := test-vm-report
TEST_VM_RESULTS := test-results/vm.json $(if $(VM_REDUCED_CPU),test-results/vm-cpu.json) $(if $(VM_SYSTEMD_TESTS),test-results/vm-systemd.json)

# $(call vm_vitest,REPORT,VM_RUN_OPTIONS,VITEST_ARGS). In the guest the repo is on a tmpfs overlay, so
# the JSON report goes to $TSRUN_VM_OUT (/run/tsrun-vm/out) and vm/run.sh --results copies it back.
# ./node_modules/.bin/vitest rather than npx: npx spends 20-40 s resolving the package under TCG.
# TSRUN_HOST_V8_TAG: the host node's V8 configuration tag, which the snapshot was built with.
vm_vitest = mkdir -p $(dir $(1)) && rm -f $(1) && \
  vm/run.sh --timeout $(VM_TIMEOUT) $(2) --results $(dir $(1)) \
  --env TSRUN_HOST_V8_TAG=$$(env -u NODE_OPTIONS node -p 'require("v8").cachedDataVersionTag()') -- \
  ./node_modules/.bin/vitest run --reporter=default --reporter=json \
  --outputFile.json=/run/tsrun-vm/out/$(notdir $(1)) --project vm $(3)
VM_RUN_VITEST = $(call vm_vitest,test-results/vm.json,,--exclude 'test/vm/*systemd*' $(VM_VITEST_ARGS))
VM_RUN_REDUCED_CPU = $(call vm_vitest,test-results/vm-cpu.json,--cpu $(VM_REDUCED_CPU),test/vm/launcher-cpu.test.ts)
VM_RUN_SYSTEMD = $(call vm_vitest,test-results/vm-systemd.json,--systemd,$(VM_SYSTEMD_TESTS))

vm-image:
	vm/image.sh

# Standalone: exits non-zero when a test fails or the VM does (after all runs).
test-vm: deps build samples vm-image
	rc=0; $(VM_RUN_VITEST) || rc=$$?; \
	$(if $(VM_REDUCED_CPU),$(VM_RUN_REDUCED_CPU) || rc=$$?;) \
	$(if $(VM_SYSTEMD_TESTS),$(VM_RUN_SYSTEMD) || rc=$$?;) exit $$rc

# The systemd lane alone.
test-vm-systemd: deps build samples vm-image
	$(VM_RUN_SYSTEMD)

# For `make test`: test failures are left to the summary (it reads the reports); a VM that fails leaves no
# report, which the summary counts as missing.
test-vm-report: deps build samples vm-image
	$(VM_RUN_VITEST) || echo "test-vm: exit $$? (counted by the summary from test-results/vm.json)"
	$(if $(VM_REDUCED_CPU),$(VM_RUN_REDUCED_CPU) || echo "test-vm (-cpu $(VM_REDUCED_CPU)): exit $$? (counted by the summary from test-results/vm-cpu.json)")
	$(if $(VM_SYSTEMD_TESTS),$(VM_RUN_SYSTEMD) || echo "test-vm (--systemd): exit $$? (counted by the summary from test-results/vm-systemd.json)")

vm-clean:
	rm -rf --one-file-system vm/build
