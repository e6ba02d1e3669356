"""The `trident` command: the TUI (no subcommand, or `chat`), `run`, `eval`, `engine`, `sandbox`, `trust`,
`config`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any, cast

from trident import __version__
from trident.agent.config import (
    ENGINE_PROFILES,
    MODES,
    ApprovalMode,
    ConfigError,
    Settings,
    load_settings,
    resolve_model,
    user_config_path,
)
from trident.agent.core.events import Event
from trident.agent.headless.progress import Progress
from trident.agent.headless.run import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Outcome,
    RunRequest,
    execute,
    recorded_run,
)
from trident.agent.scale.choose import add_executor_arguments, executor_overrides, open_executor

RUN_EPILOG = """\
exit codes:
  0    solved: with --test-cmd the tests pass in a fresh sandbox on the baseline
       plus the patch; without it, the agent finished with a non-empty patch
  1    finished but not solved, or --apply refused the patch (.git, .trident.toml,
       a symlink or path out of the repository)
  2    usage or configuration error
  3    a budget ran out (steps, time, tokens, consecutive format errors, stuck)
  4    sandbox or infrastructure error
  5    model or backend error
  130  interrupted (SIGINT/SIGTERM); the trajectory can be resumed with --resume
Every exit prints a one-line reason on stderr.
With --tasks (batch): 0 if every instance was solved, 1 otherwise, 2 for a bad tasks file;
per-instance records in OUT/results.jsonl, a summary in OUT/summary.json.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trident",
        description="An agentic coding assistant built around Mistral Small 4.",
    )
    parser.add_argument("--version", action="version", version=f"trident {__version__}")
    parser.add_argument(
        "--continue",
        "-c",
        dest="continue_top",
        action="store_true",
        help="open the TUI on this repository's newest saved session",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="fix a task headlessly (CI): events, patch, trajectory, exit code",
        description="Run the agent on a repository without a UI. The repository is copied into a "
        "workspace and never modified.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--repo", type=Path, help="the repository to work on")
    task = run.add_mutually_exclusive_group()
    task.add_argument("--task", help="what to do")
    task.add_argument("--task-file", type=Path, help="a file holding the task")
    run.add_argument("--test-cmd", help="the command that checks the change (run in the sandbox)")
    run.add_argument("--model", help="scripted:FILE | openai:MODEL@BASE_URL | vllm:DIR")
    run.add_argument(
        "--effort", choices=["auto", "none", "high"], help="reasoning effort policy (default auto)"
    )
    run.add_argument(
        "--sandbox",
        choices=["auto", "docker", "local"],
        help="where tools act (default auto: Docker where an engine answers; local does not isolate)",
    )
    run.add_argument("--image", help="Docker image for the sandbox (needs python3 and bash)")
    run.add_argument("--max-steps", type=int, help="step budget")
    run.add_argument("--timeout", type=float, help="wall-time budget in seconds")
    run.add_argument("--max-tokens", type=int, help="token budget (input + output)")
    run.add_argument(
        "--max-nudges",
        type=int,
        help="times a model that stops with the task unchecked is told what is open (default 2; 0: never)",
    )
    run.add_argument("--json", action="store_true", help="write one JSON event per line to stdout")
    run.add_argument("--patch-out", type=Path, help="write the change as a git diff here")
    run.add_argument("--trajectory-out", type=Path, help="write the trajectory (JSONL) here")
    run.add_argument("--apply", action="store_true", help="apply the patch to --repo when solved")
    run.add_argument("--resume", type=Path, metavar="TRAJECTORY", help="continue an interrupted run")
    run.add_argument(
        "--tasks", type=Path, help="batch: a JSONL file of instances (id, repo, commit, task, test_cmd)"
    )
    run.add_argument("--workers", type=int, default=2, help="batch: instances run at once (default 2)")
    run.add_argument("--out", type=Path, default=Path("trident-results"), help="batch: output directory")
    run.add_argument(
        "--continue",
        dest="continue_batch",
        action="store_true",
        help="batch: keep the instances OUT already has results for; run only the others",
    )
    add_executor_arguments(run)

    chat = sub.add_parser(
        "chat",
        help="the interactive TUI on a repository (also: `trident` alone, inside a repository)",
        description="Open the full-screen TUI. The repository is edited in place, through the sandbox; "
        "edits and commands ask first unless the approval mode says otherwise.",
    )
    chat.add_argument("--repo", type=Path, help="the repository (default: the git work tree around here)")
    chat.add_argument("--model", help="scripted:FILE | openai:MODEL@BASE_URL | vllm:DIR")
    chat.add_argument("--effort", choices=["auto", "none", "high"], help="reasoning effort policy")
    chat.add_argument(
        "--sandbox", choices=["auto", "docker", "local"], help="where tools act (default auto: Docker if any)"
    )
    chat.add_argument("--image", help="Docker image for the sandbox")
    chat.add_argument(
        "--approval",
        choices=MODES,
        help="ask | auto-edit | full-auto (default: full-auto in Docker without network)",
    )
    chat.add_argument(
        "--continue",
        dest="continue_last",
        action="store_true",
        help="continue this repository's newest saved session",
    )
    chat.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="ID",
        help="continue a saved session (its id, or the start of it); without an ID, pick one",
    )
    chat.add_argument(
        "--test-cmd", help="the project's test command (default: the config's, else detected from the layout)"
    )

    box = sub.add_parser("sandbox", help="the Docker sandbox: build its image, status, clean up")
    box_sub = box.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    box_sub.add_parser("build", help="build the base image offline (mmdebstrap + docker import), once")
    box_sub.add_parser("status", help="is Docker reachable, is the image there, which sandboxes run")
    gc_parser = box_sub.add_parser("gc", help="remove sandbox containers left by crashed runs")
    gc_parser.add_argument("--all", action="store_true", help="remove every trident sandbox container")

    from trident.evals.cli import EPILOG as EVAL_EPILOG
    from trident.evals.cli import add_arguments as add_eval_arguments

    add_eval_arguments(
        sub.add_parser(
            "eval",
            help="LiveCodeBench-style eval: generate or take code, grade it in a sandbox, report",
            description="Evaluate a model (or given code) on LiveCodeBench-format problems: plain "
            "generation and, with --agentic, the agent with a sandbox; graded on hidden tests.",
            epilog=EVAL_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )

    engine = sub.add_parser("engine", help="the embedded vLLM engine: a self-test, test checkpoints")
    engine_sub = engine.add_subparsers(dest="engine_command", metavar="ACTION", required=True)
    tiny = engine_sub.add_parser(
        "make-tiny",
        help="write a random-weight Mistral Small 4-shaped checkpoint (tests, benchmarks)",
        description="Write params.json, consolidated.safetensors and a Tekken v15 tekken.json with "
        "Mistral Small 4's structure (MLA, 128 experts top-4 + 1 shared, YaRN, llama_4_scaling), "
        "shrunk in depth and width. Random weights: the text is nonsense; the wiring is real.",
    )
    tiny.add_argument("dir", type=Path, help="the folder to write")
    tiny.add_argument("--layers", type=int, default=1, help="transformer layers (default 1)")
    tiny.add_argument("--hidden", type=int, default=256, help="model width (default 256)")
    tiny.add_argument(
        "--kv-lora-rank",
        type=int,
        help="MLA latent size; default 256 (Mistral Small 4's) with CUDA, else 512: vLLM's CPU MLA "
        "decode kernel only supports 512",
    )
    check = engine_sub.add_parser(
        "check",
        help="what the [engine] settings (profile) do on this machine; one tool call, one reasoning call",
        description="Print the device, each serving setting (value, source, whether it applies here), "
        "what vLLM took once started, then make one real tool call and one reasoning call. "
        "Exit 0 when both work, 1 otherwise.",
    )
    check.add_argument("dir", type=Path, nargs="?", help="the checkpoint (default: the configured vllm:DIR)")
    check.add_argument("--profile", choices=sorted(ENGINE_PROFILES), help="a serving profile to try")
    check.add_argument("--max-tokens", type=int, default=1024, help="tokens per call (default 1024)")
    check.add_argument("--repo", type=Path, default=Path.cwd(), help="whose .trident.toml to read")

    trust = sub.add_parser(
        "trust",
        help="let a repository's .trident.toml choose the model, sandbox, network, approval (or revoke)",
        description="Record that you trust the repository at DIR (its real path) with its .trident.toml "
        "as it is now (its sha256), so the settings of that file that could weaken the sandbox or send "
        "your API key elsewhere are honoured; once the file changes, they are ignored again. "
        "Stored in your state directory; --revoke takes it back.",
    )
    trust.add_argument("dir", type=Path, nargs="?", help="the repository (default: the one around here)")
    trust.add_argument("--revoke", action="store_true", help="no longer trust it")
    trust.add_argument("--list", action="store_true", help="list the trusted repositories")

    config = sub.add_parser("config", help="show the effective configuration")
    config.add_argument("--repo", type=Path, default=Path.cwd())
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.model:
        out["model"] = args.model
    if args.effort:
        out["effort"] = {"mode": args.effort}
    sandbox = {key: value for key, value in (("kind", args.sandbox), ("image", args.image)) if value}
    if sandbox:
        out["sandbox"] = sandbox
    if args.command == "chat":
        if args.test_cmd:
            out["test_command"] = args.test_cmd
        return out
    out.update(executor_overrides(args))
    limits = {
        key: value
        for key, value in (
            ("max_steps", args.max_steps),
            ("timeout_s", args.timeout),
            ("max_tokens", args.max_tokens),
            ("max_nudges", args.max_nudges),
        )
        if value is not None
    }
    if limits:
        out["limits"] = limits
    return out


def _request(args: argparse.Namespace) -> tuple[RunRequest, Settings, Path | None]:
    if args.resume is not None:
        request, recorded = recorded_run(args.resume)
        settings = Settings.model_validate({**recorded.model_dump(), **_overrides(args)})
        return request, settings, args.resume
    if args.repo is None:
        raise ConfigError("--repo is required (or --resume TRAJECTORY)")
    if args.task_file is not None:
        try:
            task = args.task_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--task-file {args.task_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            task = "\0"
        if "\0" in task:
            raise ConfigError(f"--task-file {args.task_file} is not a UTF-8 text file")
    elif args.task:
        task = args.task
    else:
        raise ConfigError("give the task with --task TEXT or --task-file FILE")
    settings = load_settings(args.repo, _overrides(args))
    request = RunRequest(
        repo=args.repo.resolve(),
        task=task,
        model=resolve_model(settings),
        test_command=args.test_cmd or settings.test_command,
        trajectory=args.trajectory_out,
        patch_out=args.patch_out,
        apply=args.apply,
    )
    return request, settings, None


async def _run_async(request: RunRequest, settings: Settings, resume: Path | None, as_json: bool) -> Outcome:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    progress = Progress()

    def sink(event: Event) -> None:
        if as_json:
            sys.stdout.write(event.model_dump_json() + "\n")
            sys.stdout.flush()
        progress.show(event)

    return await execute(request, settings, sink, resume=resume)


def _cmd_batch(args: argparse.Namespace) -> int:

    try:
        if args.repo is not None or args.task or args.task_file or args.resume:
            raise ConfigError("--tasks takes the instances from the file: no --repo/--task/--resume with it")
        if args.workers < 1:
            raise ConfigError("--workers must be at least 1")
        settings = load_settings(None, _overrides(args))
        return asyncio.run(_batch_async(args, settings))
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("trident: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _batch_async(args: argparse.Namespace, settings: Settings) -> int:
    from trident.agent.headless.batch import run_batch

    executor = open_executor(settings.scale, args.workers)
    try:
        return await run_batch(
            args.tasks, settings, args.out, args.workers, executor, keep_finished=args.continue_batch
        )
    finally:
        await executor.close()


def _cmd_run(args: argparse.Namespace) -> int:
    if args.tasks is not None:
        return _cmd_batch(args)
    try:
        if args.continue_batch:
            raise ConfigError("--continue is for batches (--tasks); a single run continues with --resume")
        request, settings, resume = _request(args)
        outcome = asyncio.run(_run_async(request, settings, resume, args.json))
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("trident: interrupted; resume with --resume <trajectory>", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.trajectory is not None:
        print(f"trident: trajectory {outcome.trajectory}", file=sys.stderr)
    print(f"trident: {outcome.reason}", file=sys.stderr)
    return outcome.exit_code


def _cmd_config(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.repo)
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"# user config: {user_config_path()}\n# repo config: {args.repo / '.trident.toml'}")
    print(settings.model_dump_json(indent=2))
    return 0


def _cmd_trust(args: argparse.Namespace) -> int:
    from trident.agent.config import read_repo_file, set_trust, trust_file, trusted_repos
    from trident.sandbox.hostgit import repo_root

    try:
        if args.list:
            for path in sorted(trusted_repos()):
                print(path)
            return 0
        repo = args.dir if args.dir is not None else repo_root(Path.cwd())
        if not repo.is_dir():
            raise ConfigError(f"{repo} is not a directory")
        # refuses a link, fifo, device or a file over 1 MiB (revoking reads nothing)
        digest = None if args.revoke else read_repo_file(repo).sha256
        key = set_trust(repo, not args.revoke, digest)
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.revoke:
        verb = "no longer trusted"
    elif digest is None:
        verb = "trusted (it has no .trident.toml: one added later is untrusted until you trust it again)"
    else:
        verb = (
            f"trusted: its .trident.toml (sha256 {digest[:12]}) may set every setting; "
            "if the file changes, it is untrusted again"
        )
    print(f"trident: {key} {verb} ({trust_file()})")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from trident.sandbox.base import SandboxError
    from trident.sandbox.docker import LABEL, docker_client, gc
    from trident.sandbox.image import default_image, ensure_image, rootfs_path

    try:
        client = docker_client()
        if args.sandbox_command == "build":
            print(f"trident: sandbox image {ensure_image(client, log=lambda m: print(m, file=sys.stderr))}")
        elif args.sandbox_command == "gc":
            removed = gc(client, everything=args.all)
            print(f"trident: removed {len(removed)} sandbox container(s) {' '.join(removed)}".rstrip())
        else:
            images = {tag for image in client.images.list() for tag in image.tags}
            running = client.api.containers(all=True, filters={"label": LABEL})  # no inspect: no race
            print(f"docker: reachable ({client.version().get('Version', '?')})")
            state = "present" if default_image() in images else "absent (trident sandbox build)"
            print(f"image: {default_image()} {state}")
            print(f"rootfs cache: {rootfs_path()} {'present' if rootfs_path().exists() else 'absent'}")
            for summary in running:
                owner = (summary.get("Labels") or {}).get("trident.owner")
                print(f"sandbox {summary['Id'][:12]} {summary.get('State', '?')} owner {owner}")
    except SandboxError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return 4
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    from trident.agent.tui.launch import repo_root, run_chat

    repo = args.repo if args.repo is not None else repo_root(Path.cwd())
    return run_chat(
        repo,
        _overrides(args),
        cast(ApprovalMode | None, args.approval),
        resume=args.resume,
        continue_last=args.continue_last,
    )


def _cmd_engine(args: argparse.Namespace) -> int:
    if args.engine_command == "check":
        return _cmd_engine_check(args)
    return _cmd_make_tiny(args)


def _cmd_engine_check(args: argparse.Namespace) -> int:
    from trident.agent.llm.vllm_engine import vllm_missing

    try:
        settings = load_settings(args.repo, {"engine": {"profile": args.profile}} if args.profile else None)
        path = args.dir
        if path is None:
            model = resolve_model(settings)
            if not model.startswith("vllm:"):
                raise ConfigError(f"engine check needs a vllm:DIR model or a DIR argument, not {model}")
            path = Path(model.removeprefix("vllm:")).expanduser()
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    missing = vllm_missing()
    if missing is not None:
        print(f"trident: {missing}", file=sys.stderr)
        return EXIT_USAGE
    from trident.agent.llm.engine_check import check

    return check(path.resolve(), settings.engine, max_tokens=args.max_tokens)


def _cmd_make_tiny(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from trident.agent.llm.tiny_checkpoint import (
        CPU_KV_LORA_RANK,
        REAL_KV_LORA_RANK,
        TinySpec,
        write_tiny_checkpoint,
    )

    try:
        import torch
    except ImportError:
        print(
            "trident: engine make-tiny needs torch: pip install 'trident-agent[cpu]' or 'trident-agent[gpu]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    rank = args.kv_lora_rank
    if rank is None:
        rank = REAL_KV_LORA_RANK if torch.cuda.is_available() else CPU_KV_LORA_RANK
    try:
        spec = TinySpec(layers=args.layers, hidden=args.hidden, kv_lora_rank=rank)
    except ValidationError as exc:
        problems = "; ".join(f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        print(f"trident: {problems}", file=sys.stderr)
        return EXIT_USAGE
    try:
        write_tiny_checkpoint(args.dir, spec)
    except OSError as exc:
        print(f"trident: cannot write {args.dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"trident: wrote {args.dir} ({spec.layers} layer(s), hidden {spec.hidden}, kv_lora_rank {rank}); "
        f"use it with --model vllm:{args.dir}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            parser.print_usage(sys.stderr)
            print(
                "trident: the interactive TUI needs a terminal; use `trident run` for headless work",
                file=sys.stderr,
            )
            return EXIT_USAGE
        args = parser.parse_args(["chat", *(["--continue"] if args.continue_top else [])])
    if args.command == "chat":
        args.continue_last = args.continue_last or args.continue_top
        return _cmd_chat(args)
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "config":
        return _cmd_config(args)
    if args.command == "trust":
        return _cmd_trust(args)
    if args.command == "eval":
        from trident.evals.cli import main as eval_main

        return eval_main(args)
    if args.command == "engine":
        return _cmd_engine(args)
    return _cmd_sandbox(args)


if __name__ == "__main__":
    sys.exit(main())
