# SPDX-License-Identifier: GPL-2.0
# Shared by the rig scripts: where the cache lives and how a kernel build is keyed.
# Sourced, not executed.

SVMX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SVMX_VM_DIR="$SVMX_TOP/tests/vm"
SVMX_SRC_PKG=linux-source-6.12

svmx_cache_dir() {
	if [ -n "${SVMX_CACHE:-}" ]; then
		echo "$SVMX_CACHE"
	elif [ "$(id -u)" = 0 ]; then
		echo /var/cache/svmx
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/svmx"
	fi
}

svmx_die() {
	echo "svmx: $*" >&2
	exit 1
}

svmx_log() {
	echo "  $*" >&2
}

# Version of the Debian kernel source package, e.g. 6.12.117-1~deb12u1.
svmx_src_version() {
	dpkg-query -W -f='${Version}' "$SVMX_SRC_PKG" 2>/dev/null
}

svmx_src_tarball() {
	ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null
}

# Config fragments of a variant (base or debug), in merge order.
svmx_fragments() {
	echo "$SVMX_VM_DIR/kernel.config"
	[ "$1" = debug ] && echo "$SVMX_VM_DIR/kernel-debug.config"
	return 0
}

# Bump when build-kernel changes what it produces, so caches are rebuilt.
SVMX_KERNEL_RECIPE=1

# Key = source package version + hash of the config fragments and recipe.
svmx_kernel_key() {
	local variant=$1 ver hash
	ver=$(svmx_src_version) || return 1
	[ -n "$ver" ] || return 1
	# shellcheck disable=SC2046
	hash=$( (echo "recipe=$SVMX_KERNEL_RECIPE"; cat $(svmx_fragments "$variant")) |
	       sha256sum | cut -c1-12)
	echo "${ver//[~:]/_}-$variant-$hash"
}

svmx_kernel_dir() {
	local key
	key=$(svmx_kernel_key "$1") || return 1
	echo "$(svmx_cache_dir)/kernel/$key"
}
