#!/usr/bin/env bash
# The README's main job: a headless bug-fix run on the bundled example, in a Docker sandbox.
# The model is a RECORDED session (scripted:), not a live model; see README for --model.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: this installs what it needs first: Docker (docker.io, mmdebstrap; apt, as root) if missing," \
     "dockerd started with no bridge network if none runs, trident itself (pip install .), and the" \
     "sandbox image (built offline, once)." >&2
bash examples/ensure-docker.sh
echo "demo: pip install . (trident-agent from this checkout)" >&2
pip install -q .
echo "demo: trident sandbox build (the offline base image; cached after the first time)" >&2
trident sandbox build
exec trident run --sandbox docker \
    --repo examples/timefmt/repo --task-file examples/timefmt/task.md \
    --test-cmd "python3 -m unittest" \
    --model scripted:examples/timefmt/session.jsonl \
    --patch-out timefmt.patch "$@"
