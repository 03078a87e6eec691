"""``gittree demo``: a believable research history, written with gittree's own commit path.

The story: a small vision transformer on CIFAR-10 grows from a 39% linear probe to about 88%, with
side branches, a crossover merge of two good ideas, repeated seeds, a change lost in the noise,
regressions, a diverged run and two abandoned dead ends with their reasons. Its last chapter is run
for real by gittree's own run code on a tiny deterministic script (``score.py``): three seeds with
``gittree run --seeds``, an idea recorded and then reset away with ``git reset --hard`` (kept by the
keep ref, drawn as a discarded dead end), and a sweep of three weight decays. Dates, the identity,
run ids and durations are pinned, so the demo is the same on every machine.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from gittree import gitio
from gittree.errors import GittreeError
from gittree.record.commit import ExperimentEntry, commit_experiment
from gittree.runs import journal

DEMO_NAME = "Ada Researcher"
DEMO_EMAIL = "ada@example.org"
START = 1772442000  # 2026-03-02 09:00 UTC
HOUR = 3600

CONFIG_YAML = """\
# gittree configuration: see docs/config.md
primary: acc
metrics:
  acc:
    goal: max
    threshold: 0.003
  loss:
    goal: min
"""


@dataclass(frozen=True)
class Step:
    """One commit of the story: an experiment (with results) or an ordinary commit (``ordinary=True``)."""

    key: str
    parent: str | None
    branch: str
    subject: str
    file: str
    change: str
    acc: tuple[float, ...] = ()
    loss: tuple[float, ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    status: str | None = None
    merge: str | None = None
    ordinary: bool = False
    body: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _story() -> list[Step]:
    s = Step
    return [
        s(
            "skeleton",
            None,
            "main",
            "project skeleton: data loading and training loop",
            "train.py",
            "# training loop, CIFAR-10 loaders",
            ordinary=True,
        ),
        s(
            "base",
            "skeleton",
            "main",
            "baseline: linear probe on raw pixels",
            "model.py",
            "model = Linear(3072, 10)",
            acc=(0.392,),
            loss=(1.741,),
            params=(("lr", "1e-3"), ("epochs", "30")),
            notes=("sanity check of the pipeline; matches the published linear-probe number",),
        ),
        s(
            "vit4",
            "base",
            "main",
            "conv stem + 4-layer transformer",
            "model.py",
            "model = ViT(depth=4, stem='conv')",
            acc=(0.612,),
            loss=(1.102,),
            params=(("depth", "4"), ("dim", "192")),
        ),
        s(
            "patch8",
            "vit4",
            "exp/patch8",
            "patch 8x8 tokens instead of the conv stem",
            "model.py",
            "stem = Patchify(8)",
            acc=(0.588,),
            loss=(1.161,),
            params=(("patch", "8"),),
            notes=("64 tokens are too few for 32x32 images",),
        ),
        s(
            "patch8heads",
            "patch8",
            "exp/patch8",
            "patch 8x8 with 6 heads",
            "model.py",
            "heads = 6",
            acc=(0.5895,),
            loss=(1.158,),
            params=(("heads", "6"),),
        ),
        s(
            "overlap",
            "vit4",
            "main",
            "overlapping 4x4 conv stem",
            "model.py",
            "stem = ConvStem(4, overlap=True)",
            acc=(0.667,),
            loss=(0.957,),
            params=(("patch", "4"),),
        ),
        s(
            "graphattn",
            "overlap",
            "exp/graph-attention",
            "graph attention between neighbouring patches",
            "model.py",
            "attention = GraphAttention(k=8)",
            acc=(0.652,),
            loss=(0.991,),
            status="abandoned",
            notes=("3x slower per epoch and no gain after 20 epochs; not worth the budget",),
        ),
        s(
            "loader",
            "overlap",
            "main",
            "refactor the data loader into its own module",
            "data.py",
            "# loaders moved here",
            ordinary=True,
        ),
        s(
            "readme",
            "loader",
            "main",
            "document how to reproduce the runs",
            "README.md",
            "Run `python train.py`.",
            ordinary=True,
        ),
        s(
            "adamw",
            "readme",
            "main",
            "AdamW with a cosine schedule",
            "train.py",
            "opt = AdamW(lr=3e-4, wd=0.05)",
            acc=(0.701, 0.705, 0.703),
            loss=(0.862, 0.851, 0.857),
            params=(("optimizer", "adamw"), ("lr", "3e-4")),
            notes=("three seeds from here on",),
        ),
        s(
            "smooth",
            "adamw",
            "exp/label-smoothing",
            "label smoothing 0.1",
            "train.py",
            "criterion = CE(smoothing=0.1)",
            acc=(0.704, 0.706, 0.702),
            loss=(0.871, 0.866, 0.869),
            params=(("label_smoothing", "0.1"),),
            notes=("+0.1pt is inside the seed noise",),
        ),
        s(
            "randaug",
            "adamw",
            "main",
            "RandAugment (n=2, m=9)",
            "augment.py",
            "aug = RandAugment(2, 9)",
            acc=(0.747, 0.750, 0.748),
            loss=(0.741, 0.735, 0.739),
            params=(("randaugment", "2,9"),),
        ),
        s(
            "autoaug",
            "randaug",
            "exp/learned-augment",
            "learned augmentation policy search",
            "augment.py",
            "aug = PolicySearch()",
            status="abandoned",
            notes=("policy search alone would cost 40 GPU-days; stopped after the first trial",),
        ),
        s(
            "depth8",
            "randaug",
            "main",
            "depth 8",
            "model.py",
            "depth = 8",
            acc=(0.761,),
            loss=(0.702,),
            params=(("depth", "8"),),
        ),
        s(
            "depth12",
            "depth8",
            "exp/deeper",
            "depth 12",
            "model.py",
            "depth = 12",
            acc=(0.755,),
            loss=(0.719,),
            params=(("depth", "12"),),
            notes=("train loss lower, val worse: overfits",),
        ),
        s(
            "depth16",
            "depth12",
            "exp/deeper",
            "depth 16 with LayerScale",
            "model.py",
            "depth = 16; layerscale = 1e-5",
            acc=(0.751,),
            loss=(0.733,),
            params=(("depth", "16"),),
        ),
        s(
            "mixup",
            "depth8",
            "exp/mixup",
            "mixup 0.8",
            "augment.py",
            "mix = Mixup(alpha=0.8)",
            acc=(0.779,),
            loss=(0.688,),
            params=(("mixup", "0.8"),),
        ),
        s(
            "droppath",
            "depth8",
            "exp/drop-path",
            "stochastic depth 0.1",
            "model.py",
            "drop_path = 0.1",
            acc=(0.774,),
            loss=(0.690,),
            params=(("drop_path", "0.1"),),
        ),
        s(
            "cross",
            "droppath",
            "main",
            "mixup + stochastic depth",
            "augment.py",
            "",
            merge="mixup",
            acc=(0.792, 0.789, 0.794),
            loss=(0.652, 0.660, 0.649),
            notes=("the two regularisers add up: crossover of exp/mixup and exp/drop-path",),
        ),
        s(
            "ema",
            "cross",
            "exp/ema",
            "EMA of weights (0.9999)",
            "train.py",
            "ema = EMA(0.9999)",
            acc=(0.7925,),
            loss=(0.650,),
            params=(("ema", "0.9999"),),
        ),
        s(
            "long",
            "cross",
            "main",
            "train 300 epochs instead of 100",
            "train.py",
            "epochs = 300",
            acc=(0.823,),
            loss=(0.571,),
            params=(("epochs", "300"),),
        ),
        s(
            "lr1e3",
            "long",
            "exp/high-lr",
            "lr 1e-3",
            "train.py",
            "lr = 1e-3",
            acc=(0.1,),
            loss=(float("nan"),),
            params=(("lr", "1e-3"),),
            status="failed",
            notes=("loss went NaN at epoch 12",),
        ),
        s(
            "warmup",
            "long",
            "main",
            "10 warm-up epochs",
            "train.py",
            "warmup = 10",
            acc=(0.831,),
            loss=(0.548,),
            params=(("warmup", "10"),),
        ),
        s(
            "relpos",
            "warmup",
            "main",
            "relative position bias",
            "model.py",
            "pos = RelativeBias()",
            acc=(0.846, 0.844, 0.847),
            loss=(0.509, 0.514, 0.507),
        ),
        s(
            "tome",
            "relpos",
            "exp/token-merging",
            "token merging for speed",
            "model.py",
            "tome = ToMe(r=8)",
            acc=(0.838,),
            loss=(0.530,),
            notes=("2x faster at inference but -0.8pt",),
        ),
        s(
            "distill",
            "relpos",
            "main",
            "distillation from a ResNet-50 teacher",
            "train.py",
            "teacher = resnet50()",
            acc=(0.861,),
            loss=(0.472,),
            params=(("teacher", "resnet50"),),
        ),
        s(
            "bigteacher",
            "distill",
            "exp/bigger-teacher",
            "distill from a ResNet-152 teacher",
            "train.py",
            "teacher = resnet152()",
            acc=(0.8625,),
            loss=(0.469,),
            params=(("teacher", "resnet152"),),
        ),
        s(
            "sam",
            "distill",
            "main",
            "sharpness-aware minimisation",
            "train.py",
            "opt = SAM(opt, rho=0.05)",
            acc=(0.873, 0.871, 0.874),
            loss=(0.441, 0.446, 0.439),
            params=(("sam_rho", "0.05"),),
        ),
        s(
            "tta",
            "sam",
            "main",
            "test-time augmentation (flip + crops)",
            "eval.py",
            "tta = [flip, crop5]",
            acc=(0.878,),
            loss=(0.431,),
        ),
    ]


def _new_demo_repo(target: Path) -> gitio.Repo:
    """A new repository in the empty (or new) folder ``target``, with the demo's fixed identity and settings."""
    if target.exists() and any(target.iterdir()):
        raise GittreeError(f"{target} is not empty", hint="name a new or empty folder for the demo")
    target.mkdir(parents=True, exist_ok=True)
    return gitio.init_repo(
        target,
        branch="main",
        settings=(
            ("user.name", DEMO_NAME),
            ("user.email", DEMO_EMAIL),
            ("commit.gpgSign", "false"),
            ("core.hooksPath", ".git/hooks"),
            ("notes.rewriteRef", gitio.NOTES_REWRITE_PATTERN),
        ),
    )


def build_demo(directory: Path | None = None) -> Path:
    """Write the demo repository into ``directory`` (a new temporary folder by default) and return it."""
    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gittree-demo-"))
    repo = _new_demo_repo(target)
    (target / ".gittree.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    shas: dict[str, str] = {}
    story = _story()
    for index, step in enumerate(story):
        shas[step.key] = _write_step(repo, target, step, shas, START + index * 7 * HOUR)
    gitio.checkout(repo, "main")
    _run_last_chapter(repo, target, START + len(story) * 7 * HOUR)
    return target


def _write_step(repo: gitio.Repo, target: Path, step: Step, shas: dict[str, str], when: int) -> str:
    if step.parent is not None:
        gitio.checkout(repo, step.branch, shas[step.parent])
    # The identity goes in the environment too: a user's GIT_AUTHOR_* variables would override the
    # demo repository's own config, and the demo must be the same on every machine.
    env = {
        "GIT_AUTHOR_DATE": f"@{when} +0000",
        "GIT_COMMITTER_DATE": f"@{when} +0000",
        "GIT_AUTHOR_NAME": DEMO_NAME,
        "GIT_AUTHOR_EMAIL": DEMO_EMAIL,
        "GIT_COMMITTER_NAME": DEMO_NAME,
        "GIT_COMMITTER_EMAIL": DEMO_EMAIL,
    }
    if step.merge:
        gitio.merge_without_commit(repo, shas[step.merge], env=env)
    path = target / step.file
    if step.change:
        previous = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(previous + step.change + "\n", encoding="utf-8")
    gitio.stage_all(repo)
    if step.ordinary:
        return gitio.commit_with_message(repo, step.subject + "\n", env=env)
    from gittree.trailers import format_number

    metrics = tuple(("acc", format_number(v)) for v in step.acc) + tuple(
        ("loss", format_number(v)) for v in step.loss
    )
    entry = ExperimentEntry(
        message=step.subject + ("\n\n" + step.body if step.body else ""),
        metrics=metrics,
        params=step.params,
        notes=step.notes,
        status=step.status,
    )
    return commit_experiment(repo, entry, allow_empty=True, env=env)


# -- the last chapter: real runs of score.py through gittree's run and sweep code ----------------------

#: Stands in for a training run: prints the accuracy and loss a recipe reaches, the same on every machine.
SCORE_PY = """\
\"\"\"Stands in for training: prints what this recipe, seed and weight decay reach (deterministic).\"\"\"
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--wd", type=float, default=0.05)
parser.add_argument("--recipe", default="erasing")
args = parser.parse_args()
base = {"erasing": 0.8815, "cutout": 0.8690}[args.recipe]
noise = (-0.0012, 0.0009, 0.0003)[args.seed % 3]
decay = {0.05: 0.0, 0.1: 0.0048, 0.3: -0.0105}[args.wd]
acc = base + noise + decay
print(f"acc: {acc:.4f}")
print(f"loss: {0.431 - 2 * (acc - 0.878):.3f}")
"""
#: How long each pinned run takes on the demo's clock (seconds).
RUN_SECONDS = 41 * 60


def _run_last_chapter(repo: gitio.Repo, target: Path, when: int) -> None:
    """Seeds, a reset-away idea and a sweep, each through gittree's own run code (docs/guide.md, "Try it")."""
    from gittree.read import repo_config
    from gittree.runs.execute import make_request, run_command
    from gittree.runs.sweep import plan_sweep, run_sweep

    config = repo_config(repo)
    (target / "score.py").write_text(SCORE_PY, encoding="utf-8")
    _append(target / "augment.py", "erase = RandomErasing(p=0.25)")
    with _pinned_runs(when) as clock:
        seeds = make_request(
            ["python3", "score.py", "--seed", "{seed}"],
            cwd=target,
            config=config,
            name="random erasing (p=0.25)",
            capture=("acc", "loss"),
            add_untracked=True,
            seeds="0,1,2",
        )
        _check(run_command(repo, seeds, out=_discard, err=_discard).error)
        clock.advance(7 * HOUR)
        _append(target / "augment.py", "cutout = Cutout(16)")
        cutout = make_request(
            ["python3", "score.py", "--recipe", "cutout"],
            cwd=target,
            config=config,
            name="cutout on top of random erasing",
            capture=("acc", "loss"),
            notes=("two occluders are one too many: reset away, kept as a dead end",),
        )
        _check(run_command(repo, cutout, out=_discard, err=_discard).error)
        clock.advance(HOUR)
        gitio.reset_hard(repo, "HEAD~1", env=_identity(clock.now))
        clock.advance(6 * HOUR)
        sweep = make_request(
            ["python3", "score.py", "--wd", "{wd}"],
            cwd=target,
            config=config,
            name="weight decay {point}",
            capture=("acc", "loss"),
        )
        plan = plan_sweep(repo, sweep, ["wd=0.05,0.1,0.3"], name=None)
        for point in run_sweep(repo, plan, jobs=1, out=_discard, err=_discard):
            _check(point.error or (point.report.error if point.report else None))


def _append(path: Path, line: str) -> None:
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(previous + line + "\n", encoding="utf-8")


def _discard(_: bytes) -> None:
    """The runs' own output: the demo shows the tree they make, not their logs."""


def _check(error: GittreeError | None) -> None:
    if error is not None:
        raise error


class _StoryClock(journal.RunClock):
    """The demo's clock (the run code's clock seam): each run starts ``RUN_SECONDS`` after the previous one
    ends, and takes that long; git stamps (dates, identity) follow it through the environment."""

    def __init__(self, now: int) -> None:
        self.now = now
        self.runs = 0

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def new_run_id(self) -> str:
        self.runs += 1
        stamp = datetime.fromtimestamp(self.now, timezone.utc).strftime("%Y%m%d-%H%M%S")
        return f"{stamp}-1-{self.runs:06x}"

    def ran(self, meta: journal.RunMeta) -> None:
        meta.start, meta.end, meta.duration = self.now, self.now + RUN_SECONDS, float(RUN_SECONDS)
        self.advance(RUN_SECONDS)
        os.environ.update(_identity(self.now))


@contextlib.contextmanager
def _pinned_runs(when: int) -> Iterator[_StoryClock]:
    """Pin what a run measures and names (its id, start, end, duration), through the run code's clock
    seam (``journal.RunClock``), and what git stamps (dates, identity) to the demo's clock: the run's
    facts are in its commit message, so they are in its sha.

    The command still runs for real and its metrics are read as gittree reads every run's; only the
    clock is the story's. ``python3`` is looked up first next to the interpreter running gittree."""
    clock = _StoryClock(when)
    saved = {key: os.environ.get(key) for key in (*_identity(0), "PATH")}
    os.environ.update(_identity(clock.now))
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    try:
        with journal.clock_of_runs(clock):
            yield clock
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- gittree demo --agent: an autoresearch-style agent loop, imported from its log (docs/import.md) -----

#: The loop's iterations: (description, val_bpb or None for a crash, status, how a loser was undone).
#: The agent commits each idea, runs it, logs a row, and resets a loser away, or reverts it.
AGENT_STEPS: tuple[tuple[str, float | None, str, str], ...] = (
    ("raise matrix LR to 0.05", 0.9954, "keep", ""),
    ("swap ReLU^2 for GeLU", 1.0023, "discard", "reset"),
    ("widen MLP to 6x", None, "crash", "reset"),
    ("short LR warmup (2% of steps)", 0.9949, "keep", ""),
    ("rotary base 5e5", 0.9961, "discard", "revert"),
    ("zero-init the output projection", 0.9931, "keep", ""),
    ("dropout 0.1", 0.9958, "discard", "reset"),
    ("tweak Adam betas to (0.9, 0.95)", 0.99307, "tentative", ""),
    ("value embeddings on every layer", 0.9902, "keep", ""),
    ("fp8 matmuls", None, "crash", "revert"),
    ("longer cooldown (30%)", 0.9897, "keep", ""),
    ("batch 2x, LR x1.4", 0.9911, "discard", "reset"),
)
AGENT_HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"


def build_agent_demo(directory: Path | None = None) -> tuple[Path, Path]:
    """An agent loop's repository and its ``results.tsv`` (not yet imported): (repository, log)."""
    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gittree-agent-demo-"))
    repo = _new_demo_repo(target)
    (target / ".gitignore").write_text("results.tsv\n", encoding="utf-8")
    clock = iter(range(START, START + 1000 * HOUR, HOUR // 2))
    _agent_commit(repo, target, "prepare.py and train.py", "# GPT training script", next(clock))
    rows = ["baseline\t0.998100\t44.0\tkeep\tbaseline"]
    for index, (description, value, status, undo) in enumerate(AGENT_STEPS, start=1):
        sha = _agent_commit(repo, target, description, f"# idea {index}: {description}", next(clock))
        bpb = f"{value:.6f}" if value is not None else "0.000000"
        memory = "44.0" if value is not None else "0.0"
        rows.append(f"{sha[:7]}\t{bpb}\t{memory}\t{status}\t{description}")
        env = _identity(next(clock))
        if undo == "reset":
            gitio.reset_hard(repo, "HEAD~1", env=env)
        elif undo == "revert":
            gitio.revert(repo, "HEAD", env=env)
    log = target / "results.tsv"
    log.write_text(AGENT_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return target, log


def _identity(when: int) -> dict[str, str]:
    return {
        "GIT_AUTHOR_DATE": f"@{when} +0000",
        "GIT_COMMITTER_DATE": f"@{when} +0000",
        "GIT_AUTHOR_NAME": DEMO_NAME,
        "GIT_AUTHOR_EMAIL": DEMO_EMAIL,
        "GIT_COMMITTER_NAME": DEMO_NAME,
        "GIT_COMMITTER_EMAIL": DEMO_EMAIL,
    }


def _agent_commit(repo: gitio.Repo, target: Path, subject: str, change: str, when: int) -> str:
    path = target / "train.py"
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(previous + change + "\n", encoding="utf-8")
    gitio.stage_all(repo)
    return gitio.commit_with_message(repo, subject + "\n", env=_identity(when))
