#!/usr/bin/env bash
# Make sure a Docker engine is running, installing and starting it only if missing (Debian, as root).
# No bridge network: containers get loopback only, and nothing may reach a private-range address.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
    echo "ensure-docker: apt-get install ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
fi
if ! docker info >/dev/null 2>&1; then
    echo "ensure-docker: starting dockerd --bridge=none --iptables=false (log: /tmp/trident-dockerd.log)" >&2
    nohup dockerd --bridge=none --iptables=false >/tmp/trident-dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -20 /tmp/trident-dockerd.log >&2; exit 1; }
fi
