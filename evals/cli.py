"""`trident eval`: the flags, their checks, and the exit-code contract (as `trident run`'s).

0 the eval completed (whatever the scores), 2 usage or data error (bad release tag, missing data,
bad generations file), 4 sandbox error, 5 model or backend error, 130 interrupted (run the same
command again: it continues from the run's stores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trident.agent.config import ConfigError, Settings, load_settings
from trident.agent.core.events import Effort
from trident.agent.core.messages import BackendError
from trident.agent.headless.run import EXIT_BACKEND, EXIT_INTERRUPTED, EXIT_SANDBOX, EXIT_USAGE
from trident.agent.scale.choose import add_executor_arguments, executor_overrides
from trident.sandbox.base import SandboxError

if TYPE_CHECKING:  # the run's modules load when an eval runs, not when `trident` builds its parser
    from rich.console import Console

    from trident.evals.lcb.problems import Problem
    from trident.evals.report import Summary
    from trident.evals.run import EvalConfig
    from trident.evals.suites import Suite

EPILOG = """\
exit codes:
  0    the eval completed (results/<run>/ written, whatever the scores)
  2    usage or data error (bad release tag, missing data, bad --generations file)
  4    sandbox error (grading or agent sandbox)
  5    model or backend error
  130  interrupted; the same command (same --run) continues where it stopped
Outputs in OUT/RUN/: <scenario>_<n>_<T>_eval_all.json (LiveCodeBench records), summary.json,
summary.md, pass1_by_difficulty.png, pass1_by_month.png, verdicts.png, and the resumable stores.
--cutoff only changes the report: the same command with another --cutoff re-reports, grading nothing.
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _efforts(text: str) -> list[Effort]:
    levels = [part.strip() for part in text.split(",") if part.strip()]
    if not levels or any(level not in ("none", "high") for level in levels):
        raise argparse.ArgumentTypeError(f"{text!r}: give none, high or none,high")
    return [level for level in ("none", "high") if level in levels]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("problems")
    data.add_argument(
        "--benchmark",
        choices=["lcb", "humaneval"],
        default="lcb",
        help="LiveCodeBench (default) or HumanEval",
    )
    data.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="JSONL file or directory of LCB rows (default: the bundled set); HumanEval: a JSONL[.gz]",
    )
    data.add_argument("--release", metavar="TAG", help="release_vN, release_latest, vN or vA_vB")
    data.add_argument(
        "--start-date",
        type=_date,
        metavar="DATE",
        help="contests from this date's midnight on (upstream's filter)",
    )
    data.add_argument(
        "--end-date",
        type=_date,
        metavar="DATE",
        help="contests up to this date's midnight (as upstream: not later that day)",
    )
    data.add_argument("--limit", type=_positive, metavar="N", help="only the first N problems (by date)")
    gen = parser.add_argument_group("generation")
    gen.add_argument("--model", metavar="SPEC", help="scripted:FILE|DIR, openai:MODEL@BASE_URL, vllm:DIR")
    gen.add_argument(
        "--generations",
        type=Path,
        metavar="FILE",
        help='grade given code, no model: a JSON list of {"question_id", "code_list"}',
    )
    gen.add_argument("--n", type=_positive, default=1, help="samples per problem (default 1; upstream 10)")
    gen.add_argument("--temperature", type=float, default=0.2, metavar="T", help="default 0.2")
    gen.add_argument("--max-tokens", type=_positive, default=32768, metavar="N", help="default 32768")
    gen.add_argument(
        "--effort",
        type=_efforts,
        default=["high"],
        metavar="LEVELS",
        help="reasoning_effort: none, high (default) or none,high (a scenario each)",
    )
    gen.add_argument(
        "--concurrency", type=_positive, default=8, metavar="N", help="model requests / agent runs at once"
    )
    agentic = parser.add_argument_group("agentic mode")
    agentic.add_argument(
        "--agentic", action="store_true", help="also solve each problem as an agent in a sandbox"
    )
    agentic.add_argument(
        "--agent-effort", choices=["auto", "none", "high"], default="auto", help="the agent's effort policy"
    )
    agentic.add_argument("--max-steps", type=_positive, default=30, metavar="N", help="steps per agent run")
    agentic.add_argument("--agent-timeout", type=float, metavar="SECONDS", help="wall time per agent run")
    grading = parser.add_argument_group("grading")
    grading.add_argument(
        "--sandbox",
        choices=["auto", "docker", "local"],
        help="where code runs (default: the config's sandbox.kind, auto: Docker where an engine answers, "
        "else local: no isolation)",
    )
    grading.add_argument("--image", metavar="IMAGE", help="Docker image (default: the offline-built one)")
    grading.add_argument("--workers", type=_positive, metavar="N", help="grading processes (default: cores)")
    grading.add_argument(
        "--timeout", type=float, default=6.0, metavar="SECONDS", help="per-test time limit (default 6)"
    )
    out = parser.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("results"), metavar="DIR", help="default ./results")
    out.add_argument("--run", metavar="NAME", help="default: date and model; an existing run is continued")
    out.add_argument(
        "--cutoff",
        type=_date,
        metavar="DATE",
        help="the model's cut-off date: pass@1 of contests before it (contaminated) and from it on (clean)",
    )
    add_executor_arguments(parser.add_argument_group("where the work runs"))


def _run_name(args: argparse.Namespace) -> str:
    if args.run:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", args.run):
            raise ConfigError(f"--run {args.run!r}: use letters, digits, '.', '_' and '-'")
        return str(args.run)
    what = "given" if args.generations else (args.model or "").rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", what).strip("-")[:40] or "run"
    return f"{datetime.now():%Y%m%d-%H%M%S}-{slug}"


def config_from(args: argparse.Namespace) -> tuple[EvalConfig, Settings]:
    from trident.agent.wiring import resolve_sandbox_kind
    from trident.evals.run import EvalConfig

    overrides: dict[str, Any] = {
        "effort": {"mode": args.agent_effort},
        "sandbox": {
            **({"kind": args.sandbox} if args.sandbox else {}),  # else the config's, as `run` and `chat`
            **({"image": args.image} if args.image else {}),
        },
        "limits": {"max_steps": args.max_steps, "timeout_s": args.agent_timeout},
        "temperature": args.temperature,
        **executor_overrides(args),
    }
    # auto made concrete here (and said on stderr when it is local): run.json records the kind graded in
    settings = resolve_sandbox_kind(load_settings(None, overrides))
    configured = args.model or settings.model or os.environ.get("TRIDENT_MODEL")  # as `trident run`
    if args.generations is None and configured is None:
        raise ConfigError(
            "give --model SPEC (or `model` in the config, or $TRIDENT_MODEL) to generate, "
            "or --generations FILE to grade given code"
        )
    if args.generations is not None and not args.generations.is_file():
        raise ConfigError(f"--generations {args.generations}: no such file")
    model = args.model if args.generations and not args.agentic else configured
    if args.agentic and model is None:
        raise ConfigError("--agentic needs a model (--model SPEC)")
    if args.timeout <= 0:
        raise ConfigError("--timeout must be positive")
    if args.agentic and args.benchmark == "humaneval":
        raise ConfigError("--agentic needs public tests to run; HumanEval has none (use LiveCodeBench data)")
    if args.cutoff is not None and args.benchmark == "humaneval":
        raise ConfigError("--cutoff splits problems by contest date; HumanEval's have none")
    config = EvalConfig(
        run=_run_name(args),
        benchmark=args.benchmark,
        data=str(args.data.resolve()) if args.data else None,
        release=args.release,
        start_date=args.start_date,
        end_date=args.end_date,
        limit=args.limit,
        model=model,
        generations=str(args.generations.resolve()) if args.generations else None,
        n=args.n,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        efforts=args.effort,
        agentic=args.agentic,
        agent_effort=args.agent_effort,
        max_steps=args.max_steps,
        agent_timeout_s=args.agent_timeout,
        sandbox="local" if settings.sandbox.kind == "local" else "docker",
        image=args.image,
        timeout_s=args.timeout,
    )
    return config, settings


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from trident.evals.lcb.grader import default_workers
    from trident.evals.store import StoreError
    from trident.evals.suites import load_suite

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        config, settings = config_from(args)
        data = Path(config.data) if config.data else None
        suite = load_suite(config.benchmark, data, config.release, config.start_date, config.end_date)
        problems, window = suite.problems, suite.window
        if config.limit is not None:
            problems = problems[: config.limit]
        if not problems:
            raise ConfigError(
                f"no problems selected from {window.source} (release {config.release}, dates "
                f"{config.start_date} to {config.end_date})"
            )
        out = args.out / config.run
        what = "given code" if config.generations else config.model
        console.print(
            f"[bold]trident eval[/] {config.run}: {len(problems)} of {window.count} problems from "
            f"{window.source} · {what} · sandbox {config.sandbox}",
            markup=True,
        )
        summary = asyncio.run(
            _main_async(
                config,
                suite,
                problems,
                settings,
                out,
                args.workers or default_workers(),
                args.concurrency,
                console,
                args.cutoff,
            )
        )
    except (ConfigError, StoreError) as exc:
        console.print(f"trident: {exc}", markup=False)
        return EXIT_USAGE
    except BackendError as exc:
        console.print(f"trident: model error: {exc}", markup=False)
        return EXIT_BACKEND
    except SandboxError as exc:
        console.print(f"trident: sandbox error: {exc}", markup=False)
        return EXIT_SANDBOX
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("trident: interrupted; run the same command again to continue", markup=False)
        return EXIT_INTERRUPTED
    for name, score in summary.scenarios.items():
        console.print(f"trident: {name}: pass@1 {score.pass_at_1:.1f}% over {score.problems} problems")
    console.print(f"trident: results in {out}", markup=False)
    print(out / "summary.md")
    sys.stdout.flush()
    return 0


async def _main_async(
    config: EvalConfig,
    suite: Suite,
    problems: list[Problem],
    settings: Settings,
    out: Path,
    workers: int,
    concurrency: int,
    console: Console,
    cutoff: date | None,
) -> Summary:
    from trident.agent.scale.choose import open_executor
    from trident.evals.run import run_eval

    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    executor = open_executor(settings.scale, concurrency)
    try:
        return await run_eval(
            config,
            problems,
            suite.window,
            settings,
            out,
            program=suite.program,
            all_ids=suite.all_ids,
            cutoff=cutoff,
            workers=workers,
            concurrency=concurrency,
            console=console,
            executor=executor,
        )
    finally:
        await executor.close()
