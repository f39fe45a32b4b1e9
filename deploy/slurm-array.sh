#!/usr/bin/env bash
# Scan an archive on a Slurm cluster: N array tasks side by side over shared storage,
# then one merge. Submit with:  sbatch --array=0-7 deploy/slurm-array.sh
#SBATCH --job-name=blastscan
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=blastscan-%A_%a.log
set -euo pipefail
ARCHIVE=/shared/case/recordings          # read by every task
OUT=/shared/case/blastscan-shards        # one output folder per task
N=${SLURM_ARRAY_TASK_COUNT:?run as an array job: sbatch --array=0-7 $0}
I=${SLURM_ARRAY_TASK_ID}
blastscan scan "$ARCHIVE" --quiet --threads "${SLURM_CPUS_PER_TASK:-2}" \
  --shard "$I/$N" --out "$OUT/shard-$I" || [ $? -eq 2 ]   # 2: some files failed, index written
# After the whole array has finished (e.g. sbatch --dependency=afterok:<array job id>):
#   blastscan merge /shared/case/blastscan-shards/shard-* --out /shared/case/blastscan-out
