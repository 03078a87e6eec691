"""Params as a whole configuration (issue 16, point 6): DVC-shaped params files read by `run` and
`commit`, and params inherited through the tree in `diff`, `table --param` and both exports.

Real repositories, real `gittree run` processes, params files written here in DVC's shape.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree import gitio
from gittree.errors import BadValueError
from gittree.model import CommitRecord
from gittree.record.paramsfile import flatten_params, merge_params
from gittree.trailers import parse_experiment
from gittree.tree import build_tree
from gittree.tree.analysis import effective_params
from tests.conftest import GitRepo
from tests.runtools import only_run, py

#: A params.yaml as DVC projects write it: stages' sections, nested mappings, a list, a quoted string.
PARAMS_YAML = """\
# hyper-parameters (dvc params diff reads this file too)
prepare:
  split: 0.20
  seed: 20170428
train:
  lr: 3e-4
  epochs: 10
  optimizer: "adam"
  layers: [32, 64]
  augment: true
  scheduler:
  model:
    depth: 6
    dropout: .1
"""

FLAT = [
    ("prepare.split", "0.20"),
    ("prepare.seed", "20170428"),
    ("train.lr", "3e-4"),
    ("train.epochs", "10"),
    ("train.optimizer", "adam"),
    ("train.layers", "[32, 64]"),
    ("train.augment", "true"),
    ("train.scheduler", "null"),
    ("train.model.depth", "6"),
    ("train.model.dropout", ".1"),
]


def params_of(repo: GitRepo, rev: str = "HEAD") -> list[tuple[str, str]]:
    record = parse_experiment(repo.git("log", "-1", "--format=%B", rev))
    assert record is not None
    return list(record.params)


# -- the file's shape ------------------------------------------------------------------------------------


def test_a_dvc_params_yaml_is_flattened_with_dots_and_kept_as_written() -> None:
    assert list(flatten_params(PARAMS_YAML, source="params.yaml")) == FLAT


def test_a_params_json_is_read_the_same_way() -> None:
    text = json.dumps({"train": {"lr": 0.0003, "layers": [32, 64], "optimizer": "adam", "augment": True}})
    assert list(flatten_params(text, source="params.json", yaml_first=False)) == [
        ("train.lr", "0.0003"),
        ("train.layers", "[32, 64]"),
        ("train.optimizer", "adam"),
        ("train.augment", "true"),
    ]


def test_a_list_of_mappings_is_one_param() -> None:
    text = "layers:\n  - {units: 32, act: relu}\n  - {units: 64, act: relu}\n"
    assert flatten_params(text, source="p.yaml") == (
        ("layers", "[{units: 32, act: relu}, {units: 64, act: relu}]"),
    )


def test_a_key_that_cannot_be_a_param_is_refused_or_reported() -> None:
    text = "train:\n  learning rate: 0.1\n  lr: 0.2\n  note: |\n    two\n    lines\n"
    with pytest.raises(BadValueError, match="learning rate"):
        flatten_params(text, source="params.yaml")
    problems: list[BadValueError] = []
    assert flatten_params(text, source="params.yaml", problems=problems) == (("train.lr", "0.2"),)
    assert len(problems) == 2  # the blank in a key, and a value spanning lines


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(BadValueError, match="mapping"):
        flatten_params("- 1\n- 2\n", source="params.yaml")
    assert flatten_params("", source="params.yaml") == ()


def test_param_overrides_a_file_key_in_place_and_adds_new_ones() -> None:
    merged = merge_params([("lr", "1"), ("depth", "6")], [("lr", "2"), ("seed", "0")])
    assert merged == (("lr", "2"), ("depth", "6"), ("seed", "0"))


_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_LEAF = st.from_regex(r"[a-z0-9][a-z0-9.]{0,8}", fullmatch=True)
_TREE = st.recursive(
    _LEAF, lambda children: st.dictionaries(_KEY, children, min_size=1, max_size=3), max_leaves=12
)


@given(st.dictionaries(_KEY, _TREE, max_size=4))
def test_flattening_any_nested_json_keeps_every_leaf_under_its_dotted_path(data: dict[str, object]) -> None:
    def leaves(value: object, prefix: str) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [
                pair
                for key, item in value.items()
                for pair in leaves(item, f"{prefix}.{key}" if prefix else key)
            ]
        return [(prefix, str(value))]

    assert list(flatten_params(json.dumps(data), source="p.json", yaml_first=False)) == leaves(data, "")


# -- gittree run and gittree commit read it -------------------------------------------------------------------


def test_a_run_records_the_params_file_of_its_code_with_param_overriding(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("params.yaml", PARAMS_YAML)
    repo.commit("start")
    # The script rewrites the file while it runs: the params are those of the code it started with.
    script = "open('params.yaml', 'w').write('train: {lr: 9}\\n'); print('acc: 0.9')"
    result = gittree(
        "run", "--capture", "acc", "--param", "train.lr=1e-3", "--param", "seed=1", "--", *py(script)
    )
    assert result.code == 0, result.err
    expected = dict(FLAT) | {"train.lr": "1e-3", "seed": "1"}
    assert params_of(repo) == list(expected.items())
    assert only_run(repo.path)["params_file"] == "params.yaml"


def test_a_run_reads_run_params_file_from_the_config(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write(".gittree.yaml", "run:\n  params_file: conf/hparams.json\n")
    repo.write("conf/hparams.json", '{"model": {"depth": 12}, "lr": 0.01}\n')
    repo.write("params.yaml", "ignored: 1\n")
    repo.commit("start")
    assert gittree("run", "--", *py("print('ok')")).code == 0
    assert params_of(repo) == [("model.depth", "12"), ("lr", "0.01")]


def test_a_bad_params_file_never_costs_the_run(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("params.yaml", "train:\n  learning rate: 0.1\n  lr: 0.2\n")
    repo.commit("start")
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')"))
    assert result.code == 0
    assert params_of(repo) == [("train.lr", "0.2")]
    assert "the params file: params.yaml: bad param name 'train.learning rate'" in result.err
    repo.write("params.yaml", "[unclosed\n")
    repo.git("commit", "-qam", "broken params")
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')"))
    assert result.code == 0 and "the params file was ignored" in result.err


def test_commit_reads_the_params_file_it_commits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("params.json", '{"train": {"lr": 0.1}}\n')
    repo.git("add", "params.json")
    assert gittree("commit", "-m", "base", "--metric", "acc=0.5").code == 0
    assert params_of(repo) == [("train.lr", "0.1")]
    # edited, not staged: the commit holds the staged file, and so do its params
    repo.write("params.json", '{"train": {"lr": 0.2}}\n')
    repo.write("model.py", "x = 1\n")
    repo.git("add", "model.py")
    assert gittree("commit", "-m", "model", "--metric", "acc=0.6").code == 0
    assert params_of(repo) == [("train.lr", "0.1")]
    # -a commits the edit, and --param overrides the file
    assert gittree("commit", "-a", "-m", "lr", "--metric", "acc=0.7", "--param", "wd=0").code == 0
    assert params_of(repo) == [("train.lr", "0.2"), ("wd", "0")]


# -- inherited params in the views --------------------------------------------------------------------------------


def inheriting_history(repo: GitRepo) -> dict[str, str]:
    base = repo.experiment("base", metrics=[("acc", 0.5)], params=[("depth", "6"), ("lr", "1e-3")])
    lr = repo.experiment("lower lr", metrics=[("acc", 0.6)], params=[("lr", "3e-4")])
    same = repo.experiment(
        "rerun, params file unchanged", metrics=[("acc", 0.61)], params=[("depth", "6"), ("lr", "3e-4")]
    )
    return {"base": base, "lr": lr, "same": same}


def test_diff_compares_effective_params_not_dashes_for_inherited_ones(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = inheriting_history(repo)
    data = json.loads(gittree("diff", shas["base"], shas["lr"], "--json").out)
    assert data["params"] == [{"name": "lr", "a": "1e-3", "b": "3e-4"}]
    assert data["same_params"] == 1  # depth: inherited, the same on both sides (it showed — before)
    assert data["b"]["params"] == {"depth": "6", "lr": "3e-4"} and data["b"]["params_set_here"] == ["lr"]
    text = gittree("diff", shas["base"], shas["lr"]).out
    assert "(1 param the same)" in text and "—" not in text


def test_table_param_columns_show_effective_values_marked_where_set(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = inheriting_history(repo)
    out = gittree("table", "--param", "depth", "--param", "lr").out
    # columns: sha, subject, acc, depth, lr, ... (cells are separated by two blanks or more)
    rows = {cells[0]: cells[2:5] for cells in (re.split(r"\s{2,}", line) for line in out.splitlines()[1:])}
    assert rows[shas["base"][:7]][1:3] == ["6*", "1e-3*"]
    assert rows[shas["lr"][:7]][1:3] == ["6", "3e-4*"]
    assert rows[shas["same"][:7]][1:3] == ["6", "3e-4"]  # recorded, but the same as inherited
    data = json.loads(gittree("table", "--param", "depth", "--json").out)
    assert "param:depth" in data["columns"] and "params_set_here" in data["columns"]
    by_sha = {row["sha"]: row for row in data["rows"]}
    assert by_sha[shas["lr"]]["param:depth"] == "6" and by_sha[shas["lr"]]["params_set_here"] == []
    csv_text = gittree("table", "--param", "lr", "--format", "csv").out
    assert csv_text.splitlines()[0].count("param:lr") == 1


def test_both_exports_give_effective_params_and_which_were_set_here(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = inheriting_history(repo)
    nodes = {node["sha"]: node for node in json.loads(gittree("export").out)["nodes"]}
    assert nodes[shas["lr"]]["params"] == {"lr": "3e-4"}
    assert nodes[shas["lr"]]["params_effective"] == {"depth": "6", "lr": "3e-4"}
    assert nodes[shas["lr"]]["params_set_here"] == ["lr"]
    assert nodes[shas["same"]]["params_set_here"] == []
    markdown = gittree("export", "--format", "markdown").out
    assert "- params: depth=6, lr=1e-3" in markdown
    assert "- params set here: lr=3e-4 (1 more inherited)" in markdown


def test_a_crossover_inherits_from_each_parent_the_first_winning() -> None:
    def record(sha: str, parents: tuple[str, ...], trailers: str) -> CommitRecord:
        return CommitRecord(sha=sha, parents=parents, message=f"{sha}\n\n{trailers}\n", author_time=len(sha))

    commits = [
        record("a" * 40, (), "Gittree-Param: depth=6\nGittree-Param: lr=1"),
        record("b" * 40, ("a" * 40,), "Gittree-Param: lr=2"),
        record("c" * 40, ("a" * 40,), "Gittree-Param: depth=8\nGittree-Param: wd=0.1"),
        record("d" * 40, ("b" * 40, "c" * 40), "Gittree-Note: crossover"),
    ]
    tree = build_tree(commits)
    params = effective_params(tree)
    merged = params.of(tree.by_sha["d" * 40])
    assert merged == {"depth": "6", "lr": "2", "wd": "0.1"}
    assert params.set_by(tree.by_sha["d" * 40]) == frozenset()


def test_commit_refuses_a_bad_params_file_before_anything_is_written(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    repo.write("params.yaml", "train:\n  learning rate: 0.1\n")
    repo.git("add", "params.yaml")
    result = gittree("commit", "-m", "bad params", "--metric", "acc=0.5")
    assert result.code == 6 and "learning rate" in result.err
    assert repo.head() == start


def test_files_in_reads_each_file_as_file_in_does_in_one_git_process(repo: GitRepo) -> None:
    """Files, folders, links followed or not, missing names, names with spaces: one batch answers each
    as a lone :func:`gitio.file_in` does (a run reads both default params files at once)."""
    repo.write("params.yaml", "lr: 0.1\n")
    repo.write("with space 12", "odd name\n")
    repo.write("conf/deep.json", '{"a": 1}\n')
    (repo.path / "link.yaml").symlink_to("params.yaml")
    (repo.path / "dangling 5").symlink_to("nowhere")
    (repo.path / "outside").symlink_to("../../etc/passwd")
    (repo.path / "loop").symlink_to("loop")
    repo.git("add", "-A")
    tree = repo.git("write-tree").strip()
    names = [
        "params.yaml", "params.json", "with space 12", "conf", "conf/deep.json", "link.yaml",
        "dangling 5", "outside", "loop", "conf/deep.json/x", "missing 3",
    ]  # fmt: skip
    git = gitio.open_repo(repo.path)
    for prefix in (f"{tree}:", ":"):
        wheres = [prefix + name for name in names]
        assert gitio.files_in(git, wheres) == [gitio.file_in(git, where) for where in wheres]
    assert gitio.files_in(git, [f"{tree}:params.yaml"]) == [b"lr: 0.1\n"]
