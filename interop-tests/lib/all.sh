# shellcheck shell=bash
# Sources every harness library. A test starts with:
#   source "$(dirname "$0")/lib/all.sh"; harness_init
_lib="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=/dev/null
for _f in install netns neighbor assert bird frr gobgp bgpd peer etcd; do source "$_lib/$_f.sh"; done
unset _f _lib
