"""The sandbox base image, built offline: a minimal Debian rootfs (mmdebstrap) imported into Docker.

No registry is needed. The image is tagged by a hash of its recipe, so it is built once and reused;
the rootfs tarball is cached under the user's cache dir, so a lost image is re-imported in seconds
instead of rebuilt. Users with a registry can name any image instead (`--image python:3.12-slim`):
the only requirement is `python3` (>= 3.8) and `bash` in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trident.sandbox.base import SandboxError

RECIPE: dict[str, Any] = {
    "format": 1,
    "suite": "bookworm",
    "variant": "minbase",
    "mirror": "http://deb.debian.org/debian",
    "packages": ["python3", "python3-pytest", "python3-venv", "git", "ripgrep", "ca-certificates"],
    "workspace_owner": "1000:1000",
}
REPOSITORY = "trident-sandbox"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def recipe_hash(recipe: dict[str, Any] = RECIPE) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def default_image() -> str:
    return f"{REPOSITORY}:{recipe_hash()}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trident" / "images"


def rootfs_path() -> Path:
    return cache_dir() / f"rootfs-{recipe_hash()}.tar"


def build_rootfs(target: Path, log: Callable[[str], None] = print) -> Path:
    """mmdebstrap a minimal Debian into a tarball (about 20-45 s), atomically."""
    if shutil.which("mmdebstrap") is None:
        raise SandboxError(
            "building the sandbox image needs mmdebstrap (apt-get install mmdebstrap), "
            "or name an image you have with --image"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    owner = RECIPE["workspace_owner"]
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "rootfs.tar"
        command = [
            "mmdebstrap",
            f"--variant={RECIPE['variant']}",
            f"--include={','.join(RECIPE['packages'])}",
            "--customize-hook=" + f'mkdir -p "$1/workspace" && chown {owner} "$1/workspace"',
            "--customize-hook=" + 'rm -rf "$1/var/lib/apt/lists"/* "$1/var/cache/apt"/*',
            RECIPE["suite"],
            str(partial),
            RECIPE["mirror"],
        ]
        log(f"building the sandbox rootfs: {' '.join(command[:3])} ...")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise SandboxError(f"mmdebstrap failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        os.replace(partial, target)
    return target


def ensure_image(client: Any, log: Callable[[str], None] = print) -> str:
    """The default image's tag, building and importing it first if Docker does not have it."""
    import docker.errors

    tag = default_image()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    rootfs = rootfs_path()
    if not rootfs.exists():
        build_rootfs(rootfs, log)
    log(f"importing {rootfs} as {tag}")
    repository, _, version = tag.partition(":")
    client.api.import_image_from_file(
        str(rootfs),
        repository=repository,
        tag=version,
        changes=[f"ENV {PATH_ENV}", "WORKDIR /workspace", f"LABEL trident.recipe={recipe_hash()}"],
    )
    client.images.get(tag)
    return tag
