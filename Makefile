# pidfd-matrix: the two commands people run are `make matrix` and `make test`.
# Every target installs what it needs, so they work on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PM := node bin/pidfd-matrix.js

.PHONY: help setup deps build-deps probe matrix matrix-arm64 userspace test bench boundary gitlab-demo health-demo health-demo-built kernel-org-demo faults-demo bisect-demo bisect-demo-volatile clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## node dependencies and the compiled harness (dist/)
	@# The stamp holds the lock file's hash, not a time: a checkout or a worktree touches mtimes
	@# without changing the lock, and must not reinstall.
	@lock=$$(sha256sum package-lock.json | cut -d' ' -f1); \
	if [ "$$(cat node_modules/.pidfd-matrix-stamp 2>/dev/null)" != "$$lock" ]; then \
	  npm ci --no-audit --no-fund && echo "$$lock" > node_modules/.pidfd-matrix-stamp; fi
	npm run --silent build

deps: ## Debian packages and services: qemu (x86, arm), udev, virtme-ng, secilc, xmllint, chromium, docker (runc, crun), debootstrap, mmdebstrap, arch-test and qemu-user-static (arm64 roots), kunit.py, the musl test binary (into the cache; needs root)
	bash scripts/setup/vm.sh
	bash scripts/setup/arm64.sh
	bash scripts/setup/selinux.sh
	bash scripts/setup/reports.sh
	bash scripts/setup/docker.sh
	bash scripts/setup/userspace.sh
	bash scripts/setup/kunit.sh
	bash suites/musl/build.sh

build-deps: ## compiler toolchain for building kernels from source (kernels build, source: build, bisect)
	bash scripts/setup/kernel-build.sh

probe: setup ## run the probe suite on the running kernel (host mode)
	$(PM) probe

matrix: setup deps ## boot the default kernel matrix and run the suite in each guest
	$(PM) matrix

matrix-arm64: setup deps ## the arch axis: kernels/matrix-arm64.yaml, trixie 6.12 on arm64 (qemu-system-aarch64, TCG; minutes) beside x86_64 -> reports/arm64
	$(PM) matrix --matrix kernels/matrix-arm64.yaml --out reports/arm64

userspace: setup deps ## the userspace axis: kernels/userspace.yaml (distro containers, seccomp profiles, runc/crun) -> reports/userspace/policy.md
	$(PM) matrix --matrix kernels/userspace.yaml --out reports/userspace

test: setup deps ## harness self-tests on fixtures, a real host run and a guest smoke boot
	bash scripts/selftest.sh

bench: setup deps ## boot time vs suite time per kernel, and host suite time
	$(PM) bench

boundary: setup deps ## one run over every boundary kernel: ../shared/kernels/vanilla.yaml (else kernels/boundary-mainline.yaml), BUILT=your.yaml, Debian 5.10-7.3, host; then those kernels under SELinux (selinux_pidfd) (slow; not CI)
	bash scripts/boundary.sh

gitlab-demo: setup deps ## run ci-templates/gitlab-ci.yml (2 shards + merge) with gitlab-ci-local; compare with one machine
	bash ci-templates/gitlab-demo.sh

health-demo: setup deps ## a real WARN (out-of-tree test module) in a bookworm guest becomes that case's error
	bash scripts/demo/health.sh

health-demo-built: setup deps ## a WARN planted in fdinfo, `kernels build` kernel booted with printk.time=0: that case's error (slow; not CI)
	bash scripts/demo/health-built.sh

kernel-org-demo: setup deps ## TREE=DIR: a tarball of a real tree on a local signed mirror, fetched, verified and built as source: kernel.org; BOOT=1 boots it (slow; not CI)
	bash scripts/demo/kernel-org-demo.sh

faults-demo: setup deps ## a real guest where one probe hangs in waitid and the kernel panics mid-suite: only those cases are lost
	$(PM) matrix --matrix vm/faults-demo.yaml --out reports/faults-demo; test $$? -eq 1

bisect-demo: setup deps ## a real git bisect on Debian's linux-source-6.12 with planted bugs (slow; not CI)
	bash scripts/demo/bisect.sh

bisect-demo-volatile: setup deps ## the same, for a planted bug whose value varies every boot (fdinfo Pid: off by one)
	BISECT_DEMO=fdinfo bash scripts/demo/bisect.sh

clean: ## remove reports and build output (the kernel cache stays: pidfd-matrix kernels clean)
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf dist
