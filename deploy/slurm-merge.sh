#!/usr/bin/env bash
# The merge job of deploy/slurm-submit.sh: checks that every shard finished, then merges
# OUT/shards/shard-* into OUT (OUT's own index, from an earlier run, is kept and added to).
# Writes its exit status to OUT/logs/merge.status.
#SBATCH --job-name=blastscan-merge
set -uo pipefail
out=$1 n=$2
bin=${BLASTSCAN:-blastscan}
shards=()
failed=0
for i in $(seq 0 $((n - 1))); do
  s=$(cat "$out/logs/shard-$i.status" 2>/dev/null || echo none)
  case "$s" in
    0|2) shards+=("$out/shards/shard-$i") ;;
    *) echo "merge: shard $i did not finish (status $s); see $out/logs/shard-$i.log" >&2; failed=1 ;;
  esac
done
if [ "$failed" -ne 0 ]; then
  echo 1 > "$out/logs/merge.status"
  exit 1
fi
"$bin" merge "${shards[@]}" --out "$out"
status=$?
echo "$status" > "$out/logs/merge.status"
exit "$status"
