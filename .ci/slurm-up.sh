#!/usr/bin/env bash
# Brings up a single-node Slurm on this machine from Debian's packages: munged, slurmctld
# and slurmd on localhost with a minimal slurm.conf in $SLURM_CI (default /tmp/slurm-ci).
# Prints why and exits 3 when Slurm cannot start here; `.ci/slurm-down.sh` tears it down.
# Needs root (CI runs as root).
set -euo pipefail
dir=${SLURM_CI:-/tmp/slurm-ci}

why_not() { echo "slurm: cannot start here: $*" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || why_not "needs root to run munged, slurmctld and slurmd"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq || why_not "apt-get update failed (no package registry?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null \
    || why_not "could not install slurm-wlm and munge from Debian's packages"
fi

mkdir -p "$dir"/{state,spool,log}
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))

# munge: the key Slurm's daemons and commands authenticate with.
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- munged || why_not "munged did not start"
fi
munge -n | unmunge >/dev/null || why_not "munge cannot encode and decode a credential"

# The smallest configuration that schedules jobs: no cgroups (containers often lack
# them), no accounting database, one node with this machine's cores and memory.
cat > "$dir/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
mkdir -p /etc/slurm
ln -sf "$SLURM_CONF" /etc/slurm/slurm.conf

slurmctld -c || why_not "slurmctld did not start (see $dir/log/slurmctld.log)"
slurmd || why_not "slurmd did not start (see $dir/log/slurmd.log)"
for _ in $(seq 1 60); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  case "$state" in
    idle*|mixed*|alloc*) echo "slurm: node $host $state, $cpus CPUs, ${mem} MB"; exit 0 ;;
  esac
  sleep 1
done
tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
why_not "the node did not become idle within 60 s (state: ${state:-none})"
