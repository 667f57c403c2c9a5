# Sourced by scripts/try-package and scripts/try-board: provisioning a scratch root with the
# package installed, as firmware-config/README.md tells a technician (steps 2, 5 and 6).

# provision_station ROOT STATION_ID: the station's id and token, an upstream address where
# nothing answers (the kiosk takes that in its stride), the board's time zone (on a board
# `timedatectl set-timezone Asia/Shanghai`; in a root, the link) and the staff PIN 246813.
# ROOT needs /proc and /dev mounted.
provision_station() {
    local root="$1" id="$2"
    local run=(chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
        DEBIAN_FRONTEND=noninteractive)
    [ -e "$root/usr/share/zoneinfo/Asia/Shanghai" ] \
        || "${run[@]}" apt-get install -y -q tzdata >/dev/null
    ln -sf /usr/share/zoneinfo/Asia/Shanghai "$root/etc/localtime"
    sed -i -e "s/CHANGE-ME-station-id/$id/" \
        -e "s/CHANGE-ME-station-token/token-of-the-$id-station/" \
        -e 's|https://CHANGE-ME.example.gov.cn|http://127.0.0.1:9|' \
        "$root/etc/grievance-kiosk/kiosk.toml"
    echo 246813 | "${run[@]}" runuser -u grievance-kiosk -- \
        grievance-kiosk --config /etc/grievance-kiosk/kiosk.toml staff set-pin >/dev/null
}
