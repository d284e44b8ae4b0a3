# The VM lane: a qemu (TCG) guest with a pure cgroup v2 kernel, for the limits these hybrid-cgroup hosts
# cannot apply. See vm/README.md. Boot files are cached in vm/build (rebuilt only when missing or when
# vm/guest/* changed); `make vm-clean` drops them.
.PHONY: vm-image test-vm test-vm-report vm-clean

# Seconds before the VM is killed (vm/run.sh exits 124).
VM_TIMEOUT ?= 1200
# Extra vitest arguments, e.g. make test-vm VM_VITEST_ARGS='-t freeze'
VM_VITEST_ARGS ?=

# Used by the top-level `make test`: it runs $(TEST_VM_TARGET) after the host tests and counts the
# vitest JSON report $(TEST_VM_RESULTS) in its summary line.
TEST_VM_TARGET := test-vm-report
TEST_VM_RESULTS := test-results/vm.json

# In the guest the repo is on a tmpfs overlay, so the JSON report goes to $TSRUN_VM_OUT
# (/run/tsrun-vm/out) and vm/run.sh --results copies it back. ./node_modules/.bin/vitest rather than npx:
# npx spends 20-40 s resolving the package under TCG.
VM_RUN_VITEST = mkdir -p $(dir $(TEST_VM_RESULTS)) && rm -f $(TEST_VM_RESULTS) && \
  vm/run.sh --timeout $(VM_TIMEOUT) --results $(dir $(TEST_VM_RESULTS)) -- \
  ./node_modules/.bin/vitest run --reporter=default --reporter=json \
  --outputFile.json=/run/tsrun-vm/out/$(notdir $(TEST_VM_RESULTS)) --project vm $(VM_VITEST_ARGS)

vm-image:
	vm/image.sh

# Standalone: exits non-zero when a test fails or the VM does.
test-vm: deps build samples vm-image
	$(VM_RUN_VITEST)

# For `make test`: test failures are left to the summary (it reads the report); a VM that fails leaves no
# report, which the summary counts as missing.
test-vm-report: deps build samples vm-image
	$(VM_RUN_VITEST) || echo "test-vm: exit $$? (counted by the summary from $(TEST_VM_RESULTS))"

vm-clean:
	rm -rf --one-file-system vm/build
