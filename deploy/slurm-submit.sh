#!/usr/bin/env bash
# Scans an archive on a Slurm cluster: an array of N shard tasks, then one merge job that
# runs when every task has finished well (--dependency=afterok).
#
#   deploy/slurm-submit.sh ARCHIVE OUT N [--wait]
#
# ARCHIVE and OUT must be on storage every node sees. Each task scans share I of N into
# OUT/shards/shard-I (its own store, so a rerun analyses only what is new), logging to
# OUT/logs/shard-I.log with its counts in OUT/logs/shard-I.json; the merge writes OUT/index.json,
# OUT/detections.csv and OUT/incidents.csv. Prints both job ids. With --wait, waits for the
# merge and exits with its status, naming any shard that failed.
#
# A task's exit 2 (some files could not be analysed; its index is written and names them)
# does not fail the array; any other failure fails it, and the merge does not run.
#
# Environment (defaults in brackets): BLASTSCAN, the binary [blastscan on PATH];
# BLASTSCAN_CPUS per task [2]; BLASTSCAN_MEM per task [1G: a scan's memory is flat, about
# 15 MB per file in flight plus the index]; BLASTSCAN_TIME per task [04:00:00];
# BLASTSCAN_PARTITION [the cluster's default]; BLASTSCAN_SBATCH_ARGS, more sbatch flags.
set -euo pipefail

usage() { echo "usage: $0 ARCHIVE OUT N [--wait]" >&2; exit 1; }
[ $# -ge 3 ] && [ $# -le 4 ] || usage
wait_for_merge=false
if [ $# -eq 4 ]; then [ "$4" = --wait ] && wait_for_merge=true || usage; fi
archive=$(realpath -e "$1") || { echo "$0: no archive at $1" >&2; exit 1; }
out=$(realpath -m "$2")
n=$3
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "$0: N must be a whole number of tasks, 1 or more" >&2; exit 1; }
bin=${BLASTSCAN:-$(command -v blastscan || true)}
[ -n "$bin" ] && [ -x "$bin" ] || { echo "$0: no blastscan binary: put it on PATH or set BLASTSCAN" >&2; exit 1; }
bin=$(realpath "$bin")
here=$(dirname "$(realpath "$0")")

mkdir -p "$out/logs" "$out/shards"
rm -f "$out"/logs/shard-*.status "$out/logs/merge.status"
common=(--export="ALL,BLASTSCAN=$bin" --mem="${BLASTSCAN_MEM:-1G}" --time="${BLASTSCAN_TIME:-04:00:00}")
[ -n "${BLASTSCAN_PARTITION:-}" ] && common+=(--partition="$BLASTSCAN_PARTITION")
# shellcheck disable=SC2206  # word splitting of the extra flags is wanted
[ -n "${BLASTSCAN_SBATCH_ARGS:-}" ] && common+=($BLASTSCAN_SBATCH_ARGS)

array=$(sbatch --parsable "${common[@]}" --job-name=blastscan-scan \
  --array="0-$((n - 1))" --cpus-per-task="${BLASTSCAN_CPUS:-2}" \
  --output="$out/logs/shard-%a.log" "$here/slurm-task.sh" "$archive" "$out" "$n")
array=${array%%;*}
merge=$(sbatch --parsable "${common[@]}" --job-name=blastscan-merge \
  --dependency="afterok:$array" --kill-on-invalid-dep=yes --cpus-per-task=1 \
  --output="$out/logs/merge.log" "$here/slurm-merge.sh" "$out" "$n")
merge=${merge%%;*}
echo "submitted array job $array ($n shard tasks) and merge job $merge (after the array succeeds)"
echo "watch: squeue -j $array,$merge; logs in $out/logs/"
$wait_for_merge || exit 0

while [ -n "$(squeue -h -j "$merge" -o %T 2>/dev/null)" ]; do sleep 2; done
status=$(cat "$out/logs/merge.status" 2>/dev/null || echo none)
if [ "$status" = 0 ]; then
  echo "merge job $merge done: $out/index.json"
  exit 0
fi
for i in $(seq 0 $((n - 1))); do
  s=$(cat "$out/logs/shard-$i.status" 2>/dev/null || echo "none (killed or never started)")
  case "$s" in 0|2) ;; *) echo "shard $i failed: exit $s; see $out/logs/shard-$i.log" >&2 ;; esac
done
echo "merge job $merge did not complete (status: $status); see $out/logs/merge.log" >&2
exit 1
