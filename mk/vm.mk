# The VM lane: a qemu (TCG) guest with a pure cgroup v2 kernel, for the limits these hybrid-cgroup hosts
# cannot apply. See vm/README.md. Boot files are cached in vm/build (rebuilt only when missing or when
# vm/guest/* changed); `make vm-clean` drops them.
.PHONY: vm-image test-vm vm-clean

# Seconds before the VM is killed (vm/run.sh exits 124).
VM_TIMEOUT ?= 900
# Extra vitest arguments, e.g. make test-vm VM_VITEST_ARGS='-t freeze'
VM_VITEST_ARGS ?=

vm-image:
	vm/image.sh

# Same as `npx vitest run --project vm`, minus npx's own start-up (seconds under TCG).
test-vm: deps build samples vm-image
	vm/run.sh --timeout $(VM_TIMEOUT) -- ./node_modules/.bin/vitest run --project vm $(VM_VITEST_ARGS)

vm-clean:
	rm -rf --one-file-system vm/build
