# Sourced by scripts/try-package and scripts/try-scripts: a scratch Debian 12 root to try things
# in as on a new machine. Needs root (chroot, mounts) and installs debootstrap when missing.
#
#   scratch_root     makes one: a copy of the minbase root that debootstrap makes once and
#                    keeps in target/debian/scratch-base, with /proc, /dev and /dev/pts mounted
#                    and the host's resolv.conf; sets $root; unmounted and removed on exit.
#   in_root CMD…     runs CMD inside it, with a clean environment.
#
# Needs scripts/lib/packages.sh sourced first.

scratch_root() {
    need_packages debootstrap
    local base=target/debian/scratch-base
    mkdir -p target/debian
    if [ ! -x "$base/usr/bin/apt-get" ]; then
        rm -rf "$base"
        echo "$(basename "$0"): debootstrap bookworm (minbase) into $base" >&2
        debootstrap --variant=minbase bookworm "$base" http://deb.debian.org/debian >/dev/null
    fi
    root="$(mktemp -d target/debian/scratch-root.XXXXXX)"
    trap scratch_cleanup EXIT
    cp -a "$base/." "$root/"
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
}

scratch_cleanup() {
    local m
    for m in proc dev/pts dev; do
        mountpoint -q "$root/$m" && umount -l "$root/$m"
    done
    rm -rf "$root"
}

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
