#!/usr/bin/env bash
# Tears down what `.ci/slurm-up.sh` started: cancels every job, stops slurmd, slurmctld
# and munged (by their pid files, so procps is not needed), removes the configuration
# and state.
dir=${SLURM_CI:-/tmp/slurm-ci}
export SLURM_CONF=$dir/slurm.conf
scancel --user=root >/dev/null 2>&1 || true
pids=()
for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" /run/munge/munged.pid; do
  [ -s "$pidfile" ] && pids+=("$(cat "$pidfile")")
done
[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
for _ in $(seq 1 20); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && break
  sleep 0.5
done
[ -L /etc/slurm/slurm.conf ] && rm -f /etc/slurm/slurm.conf
rm -rf "$dir"
echo "slurm: torn down"
