#!/usr/bin/env bash
# One array task of deploy/slurm-submit.sh: scans share SLURM_ARRAY_TASK_ID of N of the
# archive into OUT/shards/shard-I, writes its counts (OUT/logs/shard-I.json) and its exit
# status (OUT/logs/shard-I.status). Exit 2 of the scan (some files failed, index written)
# counts as success for the array.
#SBATCH --job-name=blastscan-scan
set -uo pipefail
archive=$1 out=$2 n=$3
i=${SLURM_ARRAY_TASK_ID:?run by deploy/slurm-submit.sh as an array task}
bin=${BLASTSCAN:-blastscan}
echo "shard $i/$n of $archive on $(hostname) with ${SLURM_CPUS_PER_TASK:-1} CPUs"
"$bin" scan "$archive" --quiet --summary json --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$i/$n" --out "$out/shards/shard-$i" > "$out/logs/shard-$i.json.tmp"
status=$?
mv "$out/logs/shard-$i.json.tmp" "$out/logs/shard-$i.json"
echo "$status" > "$out/logs/shard-$i.status.tmp" && mv "$out/logs/shard-$i.status.tmp" "$out/logs/shard-$i.status"
cat "$out/logs/shard-$i.json"
case $status in
  0) exit 0 ;;
  2) echo "shard $i: some files could not be analysed; its index names them" >&2; exit 0 ;;
  *) echo "shard $i failed: blastscan exit $status" >&2; exit "$status" ;;
esac
