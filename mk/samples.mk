# Sample bundles: `make samples` builds rootfs-samples/build/busybox/ (rootfs + config.json), which
# `make demo` and the integration tests run. The bundle's config.json is written by `tsrun spec`,
# so the CLI is built first.
BUSYBOX_SAMPLE := rootfs-samples/build/busybox/config.json

.PHONY: samples
samples: build $(BUSYBOX_SAMPLE)

# Order-only on `build`: the CLI must exist to write the sample, but a rebuilt CLI does not make an
# existing sample stale. The sample is rebuilt only when missing (`make clean` removes it).
$(BUSYBOX_SAMPLE): | build
	bash rootfs-samples/busybox.sh
