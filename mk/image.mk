# Sample images (rootfs-samples/image.sh): a two-layer busybox image with whiteouts, as an OCI layout
# and as a docker archive, under rootfs-samples/build/.
IMAGE_SAMPLE := rootfs-samples/build/busybox-layers/index.json

.PHONY: sample-image bench-image
sample-image: $(IMAGE_SAMPLE)
$(IMAGE_SAMPLE): rootfs-samples/image.sh
	rootfs-samples/image.sh rootfs-samples/build

# Import of a large layer vs umoci unpack and GNU tar (see bench/README-image.md).
bench-image: build
	bench/image-import.sh
# `make samples` (and so `make test`) builds the sample image too.
samples: sample-image
