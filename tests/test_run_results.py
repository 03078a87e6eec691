"""No result of a run is dropped or hidden silently (issue 16, point 5).

Real `gittree run` and `gittree record` in real repositories: several sources of one metric, a
`--capture` name that matches nothing or a value that is not a number, untracked files left out of
the run's code, and a note that is not a measurement.
"""

from __future__ import annotations

import json

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import only_run, py, run_dir


def last_record(repo: GitRepo):  # type: ignore[no-untyped-def]
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None
    return record


# -- one metric from several sources -----------------------------------------------------------------

SEEDS_AND_API = (
    "import json, gittree\n"
    "json.dump({'acc': [0.90, 0.91, 0.92], 'train': {'loss': 0.2}, 'step': 9}, open('metrics.json', 'w'))\n"
    "gittree.log_metric('acc', 0.93)\n"
)


def test_a_metric_given_by_two_sources_keeps_one_and_names_the_values_dropped(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: a metrics file holding three seeds was replaced by one API value, silently."""
    repo.commit("start")
    result = gittree("run", "--metrics-file", "metrics.json", "--", *py(SEEDS_AND_API))
    assert result.code == 0, result.err
    assert last_record(repo).metric_dict()["acc"] == (0.93,)
    warning = (
        "metric acc: kept 0.93 from log_metric; dropped 0.9, 0.91, 0.92 from the metrics file metrics.json"
    )
    assert warning in result.err
    entry = only_run(repo.path)
    assert any(text.startswith(warning) for text in entry["warnings"])
    collected = json.loads((run_dir(repo.path, entry["id"]) / "metrics.json").read_text())
    assert [row["value"] for row in collected["dropped"]] == ["0.9", "0.91", "0.92"]
    assert {row["source"] for row in collected["dropped"]} == {"metrics_file"}


def test_the_same_result_reported_by_two_sources_is_not_a_warning(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = (
        "import json, gittree\n"
        "json.dump({'acc': 0.50}, open('metrics.json', 'w'))\n"
        "gittree.log_metric('acc', 0.5)\n"
        "print('acc: 0.5')\n"
    )
    result = gittree("run", "--metrics-file", "metrics.json", "--capture", "acc", "--", *py(script))
    assert result.code == 0 and "warning" not in result.err, result.err
    assert last_record(repo).metric_dict()["acc"] == (0.5,)


def test_a_printed_value_that_differs_from_the_file_is_named(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = "import json\njson.dump({'acc': 0.8}, open('m.json', 'w'))\nprint('acc: 0.79')\n"
    result = gittree("run", "--metrics-file", "m.json", "--capture", "acc", "--", *py(script))
    assert "metric acc: kept 0.8 from the metrics file m.json; dropped 0.79 from --capture" in result.err


# -- --capture -------------------------------------------------------------------------------------------


def test_capture_matching_nothing_names_the_closest_printed_names(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = "print('epoch 3 loss: 0.25 acc: 0.73')\nprint('val_acc=0.70')"
    result = gittree("run", "--capture", "accuracy", "--", *py(script))
    assert result.code == 0
    assert "--capture accuracy: matched nothing; the output printed 'acc:'\n" in result.err


def test_capture_matching_nothing_with_nothing_close_lists_what_was_printed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--capture", "bleu", "--", *py("print('loss: 0.25'); print('step=9')"))
    assert "--capture bleu: matched nothing; names printed with a number: loss, step" in result.err
    result = gittree("run", "--capture", "bleu", "--", *py("print('done')"))
    assert "no line of the form 'bleu: NUMBER'" in result.err


def test_a_printed_value_that_is_not_a_number_warns_with_the_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = "print('acc: 0,73  (decimal comma)')\nprint('acc: 91%')\nprint('loss: 0.3')"
    result = gittree("run", "--capture", "acc", "--capture", "loss", "--", *py(script))
    assert result.code == 0
    assert (
        "--capture acc: not a number, not captured (2 such lines): 'acc: 0,73  (decimal comma)'" in result.err
    )
    assert "matched nothing" not in result.err  # one warning for acc: the line says why
    assert last_record(repo).metric_dict() == {"loss": (0.3,)}


# -- untracked files ---------------------------------------------------------------------------------------


def test_a_run_lists_the_untracked_files_left_out_of_its_code(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.write("features.py", "def features(): ...\n")
    for number in range(7):
        repo.write(f"data/part{number}.csv", "x\n")
    for number in range(6):
        repo.write(f"notes{number}.txt", "idea\n")
    repo.write(".gitignore", "*.log\n")
    repo.write("train.log", "ignored\n")
    result = gittree("run", "--metrics-file", "out.json", "--", *py("open('out.json', 'w').write('{}')"))
    assert result.code == 0
    [line] = [line for line in result.err.splitlines() if "untracked" in line]
    # a folder of untracked files is one entry; ignored files and the run's metrics file are not code
    assert line.startswith("gittree: warning: 9 untracked files are not part of the run's code: ")
    assert "and 4 more" in line and "--add" in line
    assert "train.log" not in line and "out.json" not in line
    assert "data/" in line or "features.py" in line

    result = gittree("run", "--add", "--", *py("print('ok')"))
    assert "untracked" not in result.err
    assert "features.py" in repo.git("show", "--stat", "--format=", "HEAD")


# -- record: a note is not a measurement ----------------------------------------------------------------------


def test_a_note_alone_never_marks_a_commit_dirty(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("baseline\n\nGittree-Metric: acc=0.5\n")
    repo.write("work.txt", "edited, not committed\n")
    result = gittree("record", "HEAD", "--note", "seed 2 looked odd")
    assert result.code == 0 and "dirty" not in result.err
    assert "dirty" not in repo.git("notes", "--ref=gittree", "show", "HEAD")
    assert json.loads(gittree("show", "--json").out)["nodes"][0]["dirty"] is False

    result = gittree("record", "HEAD", "--metric", "acc=0.52")
    assert "dirty" in result.err
    assert json.loads(gittree("show", "--json").out)["nodes"][0]["dirty"] is True
