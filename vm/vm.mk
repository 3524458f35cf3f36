# vm/vm.mk: the lab VM, included by the top-level Makefile.
#
#   make vm          a root shell in the VM: the built steps, build/rootfs
#                    and the tests are at the project's own path
#   make vm-test     the whole test suite in the VM, as make test runs it
#                    [STEP=NN [STEP_BIN=path]]; exits with its status
#   make vm-image    only the kernel and the initramfs, in build/vm
#   make vm-clean    removes build/vm (the kernel is downloaded again)
#
# Why a VM: students' machines are cgroup v2 only (systemd), this one is a
# cgroup v1 hybrid without kernel modules; the VM boots Debian's 6.12 with
# only cgroup2 mounted, so every suite is also checked where students run
# the steps. The guest has no compiler and no package manager: everything
# is built here, on the host, and shared into the guest over 9p.
#
# Knobs (make VAR=value):
#   VM_TIMEOUT=1200  seconds before vm-test kills the VM and fails
#   VM_ACCEL=        kvm or tcg; empty: probed once (see vm/run.sh)
#   VM_MEM=1536      MiB;  VM_SMP=2  vCPUs
#   VM_CMD=          vm-test runs this shell command in the project
#                    directory instead of the suite; its status is the
#                    result (make expands $: write $$VAR for a guest's VAR)
#   VM_9P_CACHE=loose  how the guest caches the project (9p): loose may
#                    show a file the host rebuilt during make vm stale,
#                    none never does; the whole suite took 47 s with
#                    loose, 118 s with mmap and 156 s with none
#   VM_KERNEL=       vmlinuz to boot the compressed kernel instead
#   VM_BUILD_COPY=   1: the guest runs a copy of build/ on a tmpfs (the
#                    default of vm-test: step 06 can idmap its rootfs
#                    there, not on 9p, so the suite tests that path); 0:
#                    build/ from the share (make vm's default: a rebuild
#                    on the host shows at once; 06 takes its fallback,
#                    build/rootfs-shifted)
#
# Everything lives in build/vm: the private apt configuration and the
# downloaded package, the unpacked kernel, the initramfs, the probe's
# answer, the last console log. Nothing outside build/ is written, except
# the packages tools/deps.sh installs when they are missing.

VM_DIR := $(BUILD)/vm
# The kernel version is pinned there, in one place.
VM_KERNEL_PIN := vm/KERNEL_VERSION
# Loaded at boot with their dependencies; those built into the kernel
# (virtio_pci and virtio_console in Debian's) are only checked for.
VM_MODULES := overlay veth bridge 9p 9pnet 9pnet_virtio virtio_pci \
	virtio_console
# qemu; deps.sh installs it without its recommends, which the VM needs
# none of (it has no display and no network card). uidmap: the guest
# carries newuidmap/newgidmap for the rootless steps.
VM_PKGS := qemu-system-x86 uidmap
# To fetch and cut the kernel: the archive key for the private apt
# source, zstd for the payload (xz, gzip for other kernels and the
# modules), readelf to check vmlinux's PVH note.
VM_KERNEL_PKGS := debian-archive-keyring zstd xz-utils binutils
# The binaries whose shared libraries the guest must carry.
VM_ELFS = $(STEP_BINS) $(TEST_DIR)/probe $(TEST_DIR)/sandbox \
	$(TEST_DIR)/unit-shared $(SUITE_BINS) $(IMAGE_TOOL)

export VM_TIMEOUT VM_ACCEL VM_MEM VM_SMP VM_CMD VM_9P_CACHE VM_KERNEL \
	VM_BUILD_COPY VM_KVM_PROBE_TIMEOUT STEP STEP_BIN

.PHONY: vm vm-test vm-image vm-deps vm-clean

vm-deps:
	@tools/deps.sh $(VM_PKGS)

$(VM_DIR)/kernel/version: $(VM_KERNEL_PIN) vm/fetch-kernel.sh
	@tools/deps.sh $(VM_KERNEL_PKGS)
	@mkdir -p $(VM_DIR)
	vm/fetch-kernel.sh $(VM_DIR) $(VM_KERNEL_PIN)

$(VM_DIR)/initramfs.cpio: $(VM_DIR)/kernel/version vm/initramfs.sh vm/init \
		vm/vm.mk $(BUILD)/rootfs/bin/busybox $(VM_ELFS)
	VM_MODULES="$(VM_MODULES)" vm/initramfs.sh $(VM_DIR)/kernel \
		$(BUILD)/rootfs/bin/busybox vm/init $@ $(VM_ELFS)

vm-image: $(VM_DIR)/initramfs.cpio

VM_RUN = VM_DIR=$(abspath $(VM_DIR)) VM_SHARE=$(CURDIR) \
	VM_BUILD=$(abspath $(BUILD)) vm/run.sh

# rootfs-shifted as make test builds it (root: chown): step 06 uses it for
# --no-idmap and a rootfs on 9p, and the guest checks it is there.
vm-test: test-deps vm-deps
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build vm-image
	@$(VM_RUN) test

vm: test-deps vm-deps
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build vm-image
	@$(VM_RUN) shell

vm-clean:
	rm -rf $(VM_DIR)
