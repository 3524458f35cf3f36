# image.mk: real images, included by the top-level Makefile.
#
#   make image FROM=oci:DIR[:TAG] [NAME=name]   import an OCI image layout
#   make image FROM=docker-archive:FILE [NAME=name]   or a docker save
#   make images          the imported images and their layers
#   make image-rm NAME=name   remove an image; make image-prune then
#                        removes the layers no image uses
#   make image-debian    a small Debian 12 image, built offline from the
#                        configured apt mirror (mmdebstrap), imported
#   make pull IMAGE=alpine:3.20   from a registry, with skopeo (needs one;
#                        PULL_FLAGS=--src-tls-verify=false for a local one)
#
# The store: $BOXSTEP_IMAGE_DIR, else /var/lib/boxstep-images for root.
# Its format, which step 08's --image DIR reads, is in
# tools/image-import/image.h and the tutorial's chapter on images.
#
# build/image-import is dynamic: it runs on the host only, and Debian's
# libjansson has no static library to link.

# IMAGE_PKGS is in the Makefile, beside the tests' packages.
IMAGE_TOOL := $(BUILD)/image-import
IMAGE_SRC := $(wildcard tools/image-import/*.c)
IMAGE_LIBS := -larchive -ljansson -lnettle
IMAGE_DEBIAN := $(BUILD)/image-debian
DEBIAN_EPOCH := 1686355200

.PHONY: image-deps image images image-rm image-prune image-debian pull

# -Wno-format-truncation: as for the tests (tests.mk), gcc 12 takes paths
# built from PATH_MAX buffers for possibly too long; they are not.
$(IMAGE_TOOL): $(IMAGE_SRC) tools/image-import/image.h $(SHARED_LIB)
	$(CC) $(CFLAGS) -Wno-format-truncation -o $@ $(IMAGE_SRC) $(SHARED_LIB) \
		$(filter-out -static,$(LDFLAGS)) $(IMAGE_LIBS)

image-deps:
	@tools/deps.sh $(IMAGE_PKGS)

image: image-deps
	@[ -n "$(FROM)" ] || { echo "usage: make image" \
		"FROM=oci:DIR[:TAG]|docker-archive:FILE [NAME=name]" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	$(IMAGE_TOOL) $(if $(NAME),--name $(NAME)) $(FROM)

images: image-deps
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	@$(IMAGE_TOOL) --list

image-rm: image-deps
	@[ -n "$(NAME)" ] || { echo "usage: make image-rm NAME=name" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	$(IMAGE_TOOL) --remove $(NAME)

image-prune: image-deps
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	$(IMAGE_TOOL) --prune

# Debian 12, minbase (apt, dpkg, bash, coreutils), one layer: mmdebstrap
# writes a tar without documentation and without /dev (--skip=output/dev:
# its device nodes, which the importer refuses; the container gets its
# /dev from the runtime), to which an empty ./dev/ is appended, as
# registries' images have it; tools/oci-layout.sh makes it an OCI layout,
# and the importer takes it like any other image: debian-12 in the store.
# SOURCE_DATE_EPOCH (Debian 12's release day) makes the tar reproducible:
# rebuilt from the same packages, it is the same layer, stored already.
image-debian: image-deps
	@tools/deps.sh mmdebstrap
	@[ "$$(id -u)" = 0 ] || { echo "make image-debian: needs root (owners" \
		"in the image): sudo make image-debian" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	rm -rf $(IMAGE_DEBIAN) && mkdir -p $(IMAGE_DEBIAN)
	SOURCE_DATE_EPOCH=$(DEBIAN_EPOCH) mmdebstrap --variant=minbase \
		--format=tar --skip=output/dev \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		bookworm $(IMAGE_DEBIAN)/rootfs.tar
	mkdir -p $(IMAGE_DEBIAN)/empty/dev
	tar -C $(IMAGE_DEBIAN)/empty --owner=0 --group=0 --numeric-owner \
		--mtime=@$(DEBIAN_EPOCH) \
		-rf $(IMAGE_DEBIAN)/rootfs.tar ./dev
	tools/oci-layout.sh $(IMAGE_DEBIAN)/oci 12 \
		'{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Cmd":["/bin/bash"],"WorkingDir":"/root"}' \
		$(IMAGE_DEBIAN)/rootfs.tar
	rm -r $(IMAGE_DEBIAN)/rootfs.tar $(IMAGE_DEBIAN)/empty
	$(IMAGE_TOOL) --name debian-12 oci:$(abspath $(IMAGE_DEBIAN))/oci:12

# A registry's image, copied as an OCI layout first (skopeo), then
# imported. The test machine has no registry: tests/allowed-skips.
pull: image-deps
	@[ -n "$(IMAGE)" ] || { echo "usage: make pull IMAGE=alpine:3.20" >&2; exit 2; }
	@tools/deps.sh skopeo
	@$(MAKE) --no-print-directory $(IMAGE_TOOL)
	rm -rf $(BUILD)/pull/$(subst :,-,$(IMAGE))
	skopeo copy $(PULL_FLAGS) docker://$(IMAGE) \
		oci:$(BUILD)/pull/$(subst :,-,$(IMAGE)):$(lastword $(subst :, ,$(IMAGE)))
	$(IMAGE_TOOL) --name $(subst :,-,$(subst /,_,$(IMAGE))) \
		oci:$(BUILD)/pull/$(subst :,-,$(IMAGE)):$(lastword $(subst :, ,$(IMAGE)))
