"""A run's metric sources never lose the run, and never credit it with numbers it did not produce.

Printed values the format refuses (`1e999`) or spells oddly (`-nan`), a metrics file left by an
earlier run, and YAML/JSON numbers that their parsers would misread: real `gittree run`, `commit`
and `recover` in real repositories.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree.runs.capture import CaptureParser
from gittree.runs.journal import process_alive
from gittree.trailers import parse_experiment, parse_number
from tests.conftest import GitRepo
from tests.runtools import GITTREE, PYTHON, journal, only_run, py, run_dir, wait_for


def metrics_of(repo: GitRepo) -> dict[str, tuple[float, ...]]:
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None
    return record.metric_dict()


def metric_lines(repo: GitRepo) -> list[str]:
    return [line for line in repo.git("log", "-1", "--format=%B").splitlines() if "Gittree-Metric" in line]


# -- printed values: `-nan`, `1e999` --------------------------------------------------------------


def test_printed_minus_nan_or_1e999_neither_stops_nor_loses_the_run(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = (
        'echo "loss: 0.5"; printf "acc: %f\\n" -nan; echo "loss: 1e999"; '
        'sleep 0.2; echo "loss: 2e999"; echo survived'
    )
    result = gittree("run", "--capture", "loss", "--capture", "acc", "--", "sh", "-c", script)
    assert result.code == 0, result.err
    assert "survived" in result.out  # the command kept running and streaming
    assert metric_lines(repo) == ["Gittree-Metric: loss=0.5", "Gittree-Metric: acc=nan"]
    entry = only_run(repo.path)
    assert entry["status"] == "committed"
    assert "survived" in (run_dir(repo.path, entry["id"]) / "output.log").read_text()
    [warning] = entry["warnings"]
    assert "'1e999'" in warning and "'loss'" in warning and "2 such values" in warning
    assert warning in result.err


@pytest.mark.parametrize(
    ("line", "value"), [("loss: -nan", "nan"), ("loss: +NaN", "nan"), ("loss: -inf", "-inf")]
)
def test_a_signed_nan_is_nan(line: str, value: str) -> None:
    parser = CaptureParser(["loss"])
    parser.feed_line(line)
    assert parser.pairs() == [("loss", value)] and parser.warnings() == []


def test_a_refused_value_leaves_the_last_accepted_one() -> None:
    parser = CaptureParser(["loss", "acc"])
    parser.feed_text("loss: 0.25\nloss: 1e999\nacc: 1E400\n")
    assert parser.pairs() == [("loss", "0.25")]
    assert parser.warnings() == [
        "--capture loss: not captured: bad metric value '1e999' for 'loss': "
        "it is too large for a 64-bit float and would become infinity",
        "--capture acc: not captured: bad metric value '1E400' for 'acc': "
        "it is too large for a 64-bit float and would become infinity",
    ]


# Pieces of lines that come close to a capture: names, separators, signs, exponents, escapes.
_WORDS = "loss acc val/loss : = - + nan NaN inf 0 1 9 e E . , % 999 e999 e-999 ( ) _ \u0663"
_FRAGMENTS = st.sampled_from([*_WORDS.split(), " ", "\t", "\r", "\n", "\x1b[31m", "\x1b]0;t\x07", "\x00"])


@given(st.one_of(st.text(), st.lists(_FRAGMENTS, max_size=40).map("".join)))
def test_capture_never_raises_on_any_output(text: str) -> None:
    parser = CaptureParser(["loss", "acc", "val/loss"])
    parser.feed_text(text)
    parser.feed_line(text)
    for name, value in parser.pairs():
        parse_number(value, name=name)  # whatever was captured is a number the format accepts
    assert all(line.startswith("--capture ") for line in parser.warnings())


def test_recover_of_a_killed_run_whose_log_holds_refused_values(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    printed = "print('loss: 0.5'); print('loss: -nan'); print('acc: 0.7'); print('acc: 1e999', flush=True)"
    _killed_run(repo, ["--capture", "acc"], printed)
    for _ in range(2):  # the first recover commits it; the second finds it committed
        result = gittree("recover")
        assert result.code == 0, result.err
    assert metric_lines(repo) == ["Gittree-Metric: loss=nan", "Gittree-Metric: acc=0.7"]
    recovered = only_run(repo.path)
    assert recovered["status"] == "committed"
    assert any("--capture acc: not captured" in w and "1e999" in w for w in recovered["warnings"])


# -- a metrics file left by an earlier run --------------------------------------------------------


def test_a_metrics_file_left_by_an_earlier_run_is_not_this_runs_result(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    write = ["sh", "-c", 'echo "{\\"acc\\": 0.5}" > m.json']
    assert gittree("run", "--metrics-file", "m.json", "--", *write).code == 0
    assert metrics_of(repo) == {"acc": (0.5,)}
    before = (repo.path / "m.json").read_bytes()
    result = gittree("run", "--metrics-file", "m.json", "--", "sh", "-c", "echo crashed; exit 1")
    assert result.code == 1
    assert metric_lines(repo) == [] and "Gittree-Status: failed" in repo.git("log", "-1", "--format=%B")
    entry = journal(repo.path)[-1]
    assert entry["status"] == "committed"
    assert entry["warnings"] == [
        "the metrics file m.json was not written by the run: "
        "it is unchanged since the run started (an earlier run's results?)"
    ]
    assert not list(run_dir(repo.path, entry["id"]).glob("metrics-file*"))  # no copy of someone else's file
    assert (repo.path / "m.json").read_bytes() == before  # the user's file is neither moved nor deleted


@pytest.mark.parametrize("how", ["in place", "renamed over"])
def test_rewriting_the_same_bytes_still_writes_the_metrics_file(repo: GitRepo, gittree, how: str) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    (repo.path / "m.json").write_text('{"acc": 0.5}\n')
    os.utime(repo.path / "m.json", ns=(10**18, 10**18))  # an old file: an in-place rewrite moves mtime
    if how == "in place":  # same inode, same size, same bytes: only the times say it was written
        script = "open('m.json', 'w').write('{\"acc\": 0.5}\\n')"
    else:  # a new inode, with the old times copied over
        script = (
            "import os; open('t.json', 'w').write('{\"acc\": 0.5}\\n'); "
            "os.utime('t.json', ns=(10**18, 10**18)); os.replace('t.json', 'm.json')"
        )
    result = gittree("run", "--metrics-file", "m.json", "--", *py(script))
    assert result.code == 0, result.err
    assert metrics_of(repo) == {"acc": (0.5,)} and only_run(repo.path)["warnings"] == []


def test_recover_does_not_take_an_earlier_runs_metrics_file(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    (repo.path / "m.json").write_text('{"acc": 0.5}\n')
    entry = _killed_run(repo, ["--metrics-file", "m.json"])
    assert gittree("recover").code == 0
    assert metric_lines(repo) == ["Gittree-Metric: loss=0.25"]
    assert "was not written by the run" in only_run(repo.path)["warnings"][0]
    assert only_run(repo.path)["id"] == entry["id"]


def test_a_run_journalled_by_an_older_gittree_reads_the_file_as_before(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    (repo.path / "m.json").write_text('{"acc": 0.5}\n')
    entry = _killed_run(repo, ["--metrics-file", "m.json"])
    meta_path = run_dir(repo.path, entry["id"]) / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["metrics_file_before"]  # what an older gittree wrote
    meta_path.write_text(json.dumps(meta))
    assert gittree("recover").code == 0
    assert metrics_of(repo) == {"acc": (0.5,), "loss": (0.25,)}


def _killed_run(repo: GitRepo, options: list[str], printed: str = "print('loss: 0.25', flush=True)") -> dict:  # type: ignore[type-arg]
    """A `gittree run` killed with SIGKILL while its command ran, after ``printed`` ran in it and gittree
    logged it; the command then ends by itself."""
    script = (
        "import pathlib, time\n"
        f"{printed}\n"
        f"print({ALL_PRINTED!r}, flush=True)\n"
        "pathlib.Path('ready').touch()\n"
        "while not pathlib.Path('go').exists(): time.sleep(0.02)\n"
    )
    runner = subprocess.Popen(
        [str(GITTREE), "run", "--capture", "loss", *options, "--", *py(script)],
        cwd=repo.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for((repo.path / "ready").exists, "the run to get going")
    # gittree writes output.log as it reads the command's output: killed before it has read the last
    # lines (a busy machine), the log would not hold them, and recover could not find their values.
    log = run_dir(repo.path, only_run(repo.path)["id"]) / "output.log"
    wait_for(lambda: ALL_PRINTED in log.read_text(), "gittree to log what the command printed")
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    entry = only_run(repo.path)
    assert entry["status"] == "running"
    (repo.path / "go").touch()
    wait_for(lambda: not process_alive(entry["child_pid"]), "the command to end")
    return entry


#: The last line a killed run's command prints before it waits.
ALL_PRINTED = "everything printed"


# -- numbers in a metrics file follow the --metric rules ------------------------------------------

REFUSED = [
    ("m.yaml", "loss: 1:30\n", "'1:30'"),  # YAML 1.1 would read 90 (base 60)
    ("m.yaml", "loss: 0x10\n", "'0x10'"),  # 16
    ("m.yaml", "loss: 1_000\n", "'1_000'"),  # 1000
    ("m.yaml", "loss: true\n", "'true'"),
    ("m.yaml", "loss: '0.5'\n", "'0.5'"),  # quoted: text
    ("m.json", '{"loss": 1e999}\n', "'1e999'"),  # would be inf
    ("m.json", '{"loss": "0.5"}\n', "'0.5'"),
]
ACCEPTED = [
    ("m.yaml", "loss: 017\n", "loss=017"),  # 17, as --metric loss=017 (YAML 1.1: 15, octal)
    ("m.yaml", "loss: 1e-3\n", "loss=1e-3"),  # YAML 1.1: the text '1e-3'
    ("m.yaml", "loss: .NaN\n", "loss=nan"),  # as PyYAML writes float('nan')
    ("m.yaml", "loss: -.inf\n", "loss=-inf"),
    ("m.json", '{"loss": 0.50}\n', "loss=0.50"),  # kept as written
    ("m.json", '{"loss": NaN}\n', "loss=nan"),  # as Python's json.dump writes float('nan')
    ("m.json", '{"loss": -Infinity}\n', "loss=-inf"),
]


@pytest.mark.parametrize(("name", "text", "shown"), REFUSED)
def test_commit_refuses_a_metrics_file_with_a_bad_number(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, tmp_path: Path, name: str, text: str, shown: str
) -> None:
    start = repo.commit("start")
    (tmp_path / name).write_text(text)
    result = gittree(
        "commit", "--allow-empty", "-m", "x", "--metric", "acc=1", "--metrics-file", str(tmp_path / name)
    )
    assert result.code == 6 and shown in result.err and "'loss'" in result.err
    assert repo.head() == start


@pytest.mark.parametrize(("name", "text", "trailer"), ACCEPTED)
def test_commit_reads_metrics_file_numbers_as_written(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, tmp_path: Path, name: str, text: str, trailer: str
) -> None:
    repo.commit("start")
    (tmp_path / name).write_text(text)
    result = gittree("commit", "--allow-empty", "-m", "x", "--metrics-file", str(tmp_path / name))
    assert result.code == 0, result.err
    assert metric_lines(repo) == [f"Gittree-Metric: {trailer}"]


@pytest.mark.parametrize(("name", "text", "shown"), REFUSED)
def test_a_run_keeps_the_good_values_of_a_file_with_a_bad_one(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, name: str, text: str, shown: str
) -> None:
    repo.commit("start")
    both = text + "acc: 0.9\n" if name.endswith(".yaml") else text.rstrip("}\n") + ', "acc": 0.9}\n'
    result = gittree("run", "--metrics-file", name, "--", *py(f"open({name!r}, 'w').write({both!r})"))
    assert result.code == 0, result.err
    assert metric_lines(repo) == ["Gittree-Metric: acc=0.9"]
    [warning] = only_run(repo.path)["warnings"]
    assert warning.startswith(f"the metrics file {name}: ") and shown in warning and "'loss'" in warning
    assert warning.endswith("(ignored)") and warning in result.err


@pytest.mark.parametrize(("name", "text", "trailer"), ACCEPTED)
def test_a_run_reads_metrics_file_numbers_as_written(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, name: str, text: str, trailer: str
) -> None:
    repo.commit("start")
    result = gittree("run", "--metrics-file", name, "--", *py(f"open({name!r}, 'w').write({text!r})"))
    assert result.code == 0, result.err
    assert metric_lines(repo) == [f"Gittree-Metric: {trailer}"] and only_run(repo.path)["warnings"] == []


def test_a_run_names_every_bad_value_of_its_metrics_file(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    text = "a: 1:30\nb: 0.25\nc: 0x10\nd: [1, 1_000, 2]\n"
    result = gittree("run", "--metrics-file", "m.yaml", "--", *py(f"open('m.yaml', 'w').write({text!r})"))
    assert result.code == 0, result.err
    assert metrics_of(repo) == {"b": (0.25,), "d": (1.0, 2.0)}
    warnings = only_run(repo.path)["warnings"]
    assert [w.split("'")[1] for w in warnings] == ["1:30", "0x10", "1_000"]


# -- DVCLive's metrics.json ---------------------------------------------------------------------------


DVCLIVE_SCRIPT = """
import json, os, sys
os.makedirs("dvclive/plots/metrics/val", exist_ok=True)
epochs, acc = int(sys.argv[1]), float(sys.argv[2])
with open("dvclive/plots/metrics/val/acc.tsv", "w") as history:
    history.write("timestamp\\tstep\\tacc\\n")
    for step in range(epochs):
        history.write(f"{1772442000 + step}\\t{step}\\t{acc * (step + 1) / epochs}\\n")
with open("dvclive/metrics.json", "w") as metrics:
    json.dump({"step": epochs - 1, "val": {"acc": acc}, "train": {"loss": round(1 - acc, 4)}}, metrics, indent=4)
"""


def test_dvclives_step_counter_is_no_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """DVCLive writes the step its metrics were logged at as a top-level ``step`` in metrics.json. It was
    recorded as a metric and, with nothing configured, judged (a tie broken by name: ``step`` first):
    the run that trained longest was the best, at a worse accuracy."""
    (repo.path / "train.py").write_text(DVCLIVE_SCRIPT)
    (repo.path / ".gitignore").write_text("dvclive/\n")
    repo.git("add", "train.py", ".gitignore")
    repo.commit("start")
    for epochs, acc in (("10", "0.80"), ("20", "0.70")):
        args = ["--metrics-file", "dvclive/metrics.json", "-m", f"{epochs} epochs"]
        result = gittree("run", *args, "--", PYTHON, "train.py", epochs, acc)
        assert result.code == 0, result.err
    assert metric_lines(repo) == ["Gittree-Metric: val/acc=0.7", "Gittree-Metric: train/loss=0.3"]
    best = json.loads(gittree("best", "--json").out)
    assert best["metric"] == "val/acc" and best["best"][0]["subject"] == "10 epochs"
    # A file holding only a step keeps it: then it is what the file says.
    from gittree.record.metricsfile import parse_metrics_text

    assert parse_metrics_text('{"step": 3}', source="f") == [("step", "3")]
    assert parse_metrics_text('{"step": 0.5, "acc": 1}', source="f") == [("step", "0.5"), ("acc", "1")]
