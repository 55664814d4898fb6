#!/usr/bin/env bash
# The demo: what a café admin does on day one, on a scratch database in build/demo/.
# It grows with the product: each part adds its step here.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
DEMO=$BUILD/demo
V() { echo "\$ vdiskctl $*"; "$BUILD/vdiskctl" "$@"; echo; }

rm -rf "$DEMO" && mkdir -p "$DEMO"
export VDISK_DB=$DEMO/vdisk.db
# Base images: sparse files stand in for the Windows images a café would serve.
truncate -s 32G "$DEMO/win10.img"
truncate -s 32G "$DEMO/win10-vip.img"

V init
V server add srv-a --role primary --service-addr 192.168.50.10 --ha-addr 10.99.0.1
V server add srv-b --role secondary --service-addr 192.168.50.10 --ha-addr 10.99.0.2
V image add win10 --path "$DEMO/win10.img"
V image add win10-vip --path "$DEMO/win10-vip.img"
V group add hall --image win10
V group add vip --image win10-vip
V client import demo/clients.csv
V client set --range PC001-PC020 --hot-standby on --dry-run
V client set --range PC001-PC020 --hot-standby on
V client set --group vip --overlay persistent --hot-standby on
V client list --range PC018-PC035
V client show PC033
V server mark srv-b maintenance
V server mark srv-b active
V server list
V events --limit 8
echo "The database is $VDISK_DB: try 'VDISK_DB=$VDISK_DB $BUILD/vdiskctl client list'."
exec bash demo/pair.sh
