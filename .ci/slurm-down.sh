#!/usr/bin/env bash
# Tears down what `.ci/slurm-up.sh` started: cancels every job, stops slurmd, slurmctld
# and munged, removes the configuration and state.
dir=${SLURM_CI:-/tmp/slurm-ci}
export SLURM_CONF=$dir/slurm.conf
scancel --user=root >/dev/null 2>&1 || true
for daemon in slurmd slurmctld munged; do
  pkill -x "$daemon" 2>/dev/null || true
done
for _ in $(seq 1 20); do
  pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || break
  sleep 0.5
done
[ -L /etc/slurm/slurm.conf ] && rm -f /etc/slurm/slurm.conf
rm -rf "$dir"
echo "slurm: torn down"
