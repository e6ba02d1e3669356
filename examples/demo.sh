#!/usr/bin/env bash
# The README's main job: a headless bug-fix run on the bundled example, in a Docker sandbox.
# The model is a RECORDED session (scripted:), not a live model; see README for --model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/ensure-docker.sh
pip install -q .
trident sandbox build
exec trident run --sandbox docker \
    --repo examples/timefmt/repo --task-file examples/timefmt/task.md \
    --test-cmd "python3 -m unittest" \
    --model scripted:examples/timefmt/session.jsonl \
    --patch-out timefmt.patch "$@"
