# Source this file (bash) before calling podman: it writes and exports a podman configuration measured to work
# on the CI machines (see docs/deploy.md#containers): the runc runtime (crun refuses the hybrid cgroups there),
# cgroupfs, explicit ulimits within the hard limits (podman's defaults are refused), and overlay storage under
# DREAMNET_IMAGE_CACHE so the base image and the dependency layer survive between runs.
# shellcheck shell=bash
DREAMNET_IMAGE_CACHE="${DREAMNET_IMAGE_CACHE:-/var/cache/dreamnet-image}"
mkdir -p "$DREAMNET_IMAGE_CACHE/storage"
_dn_conf="$DREAMNET_IMAGE_CACHE/conf"
_dn_run="${DREAMNET_IMAGE_RUNROOT:-${TMPDIR:-/tmp}/dreamnet-podman-run-$(id -u)}"
mkdir -p "$_dn_conf" "$_dn_run"
_dn_nofile="$(ulimit -Hn)"
[ "$_dn_nofile" = unlimited ] && _dn_nofile=1048576
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=32768:32768"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n' \
  "$_dn_nofile" "$_dn_nofile" >"$_dn_conf/containers.conf"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s"\n' \
  "$DREAMNET_IMAGE_CACHE" "$_dn_run" >"$_dn_conf/storage.conf"
export CONTAINERS_CONF="$_dn_conf/containers.conf" CONTAINERS_STORAGE_CONF="$_dn_conf/storage.conf"
export DREAMNET_IMAGE_CACHE
unset _dn_conf _dn_run _dn_nofile
