# Sourced by the scripts in scripts/: installs Debian packages the project needs when they are
# missing (apt-get, through sudo unless run as root), and sets up the arm64 cross build.

# package_installed PACKAGE[:ARCH]: whether the package is installed for that architecture:
# the one named, else this machine's own (`dpkg --print-architecture`). A package for all
# architectures (`Architecture: all`) counts for each. Asking dpkg for a bare name is not
# enough: with multiarch it answers for whichever architecture is installed, so the arm64
# libudev-dev that the board build installs would pass for the amd64 one the amd64 build needs.
package_installed() {
    local name="${1%%:*}" arch
    case "$1" in
        *:*) arch="${1#*:}" ;;
        *) arch="$(dpkg --print-architecture)" ;;
    esac
    dpkg-query -W -f='${Status}\n' "$name:$arch" 2>/dev/null | grep -q "ok installed" && return 0
    dpkg-query -W -f='${Status} ${Architecture}\n' "$name" 2>/dev/null | grep -q "ok installed all$"
}

# need_packages PACKAGE[:ARCH]…: installs those of the packages that are not installed for their
# architecture (this machine's own unless the name says `:arm64`).
need_packages() {
    local missing=() p
    for p in "$@"; do
        package_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$(basename "$0"): missing ${missing[*]} and there is no apt-get here: install them, then run this again" >&2
        exit 1
    fi
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    # Packages for another architecture (name:arm64) need that architecture enabled first.
    local arch
    for arch in $(printf '%s\n' "${missing[@]}" | sed -n 's/.*:\(.*\)$/\1/p' | sort -u); do
        if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
            "${sudo[@]}" dpkg --add-architecture "$arch"
        fi
    done
    echo "$(basename "$0"): installing ${missing[*]} (apt-get)" >&2
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# need_rust_target TRIPLE: adds the Rust standard library for TRIPLE.
need_rust_target() {
    rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

# The board build: aarch64-unknown-linux-gnu from x86-64, with Debian's cross gcc (linker and the
# C in rusqlite's SQLite and ring) and, for the `linuxkms` feature, libinput, libudev and
# xkbcommon for arm64 (Debian multiarch), found through pkg-config.
AARCH64=aarch64-unknown-linux-gnu
setup_aarch64_build() {
    need_rust_target "$AARCH64"
    need_packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
    export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
}
setup_aarch64_kms_libraries() {
    need_packages libinput-dev:arm64 libudev-dev:arm64 libxkbcommon-dev:arm64 pkg-config
    export PKG_CONFIG_ALLOW_CROSS=1
    export PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
}
setup_host_kms_libraries() {
    need_packages libinput-dev libudev-dev libxkbcommon-dev pkg-config
}
