"""The git boundary: the only package that starts git or imports pygit2 (``tests/test_git_boundary.py``).

Split by git concept (docs/architecture.md, "The git boundary"):

* :mod:`~gittree.gitio.runner`: the one runner of git processes and its environment policy;
* :mod:`~gittree.gitio.repo`: opening a repository, the git version, configuration, where files are;
* :mod:`~gittree.gitio.refs`: HEAD and refs, and the one compare-and-swap that moves a ref;
* :mod:`~gittree.gitio.objects`: in-process object reads through libgit2;
* :mod:`~gittree.gitio.history`: walks, the bulk stream of a whole history, ancestry;
* :mod:`~gittree.gitio.notes`: gittree's notes, read and appended to;
* :mod:`~gittree.gitio.remote`: fetch and push;
* :mod:`~gittree.gitio.plumbing`: index, tree and commit writes;
* :mod:`~gittree.gitio.keep`: the keep ref, which holds every experiment gittree wrote.

Parsing a raw commit object needs no git: it is :mod:`gittree.rawcommit`. Every library error is
translated inside the boundary into a :mod:`gittree.errors` exception that tells the user what to do.

Every name is used from here (``from gittree import gitio; gitio.open_repo(...)``), and each module
is imported on the first use of one of its names: a view served from the cache loads the runner, the
repository and the refs, not the readers and writers it does not need (start-up time is a feature).
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from gittree.gitio.history import (
        FEW_COMMITS as FEW_COMMITS,
    )
    from gittree.gitio.history import (
        commits_between as commits_between,
    )
    from gittree.gitio.history import (
        experiment_landed as experiment_landed,
    )
    from gittree.gitio.history import (
        is_ancestor as is_ancestor,
    )
    from gittree.gitio.history import (
        merge_bases as merge_bases,
    )
    from gittree.gitio.history import (
        new_commits as new_commits,
    )
    from gittree.gitio.history import (
        reachable_from_refs as reachable_from_refs,
    )
    from gittree.gitio.history import (
        read_commit as read_commit,
    )
    from gittree.gitio.history import (
        read_commits as read_commits,
    )
    from gittree.gitio.history import (
        stream_commits as stream_commits,
    )
    from gittree.gitio.keep import (
        KEEP_REF as KEEP_REF,
    )
    from gittree.gitio.keep import (
        commits_only_from as commits_only_from,
    )
    from gittree.gitio.keep import (
        follow_rewrites as follow_rewrites,
    )
    from gittree.gitio.keep import (
        forget_commits as forget_commits,
    )
    from gittree.gitio.keep import (
        forgotten_shas as forgotten_shas,
    )
    from gittree.gitio.keep import (
        independent_commits as independent_commits,
    )
    from gittree.gitio.keep import (
        is_keep_ref as is_keep_ref,
    )
    from gittree.gitio.keep import (
        keep_commits as keep_commits,
    )
    from gittree.gitio.keep import (
        keep_covers as keep_covers,
    )
    from gittree.gitio.keep import (
        keep_frontier as keep_frontier,
    )
    from gittree.gitio.keep import (
        kept_shas as kept_shas,
    )
    from gittree.gitio.keep import (
        merge_keep as merge_keep,
    )
    from gittree.gitio.keep import (
        start_commits_only_from as start_commits_only_from,
    )
    from gittree.gitio.notes import (
        append_note as append_note,
    )
    from gittree.gitio.notes import (
        append_notes as append_notes,
    )
    from gittree.gitio.notes import (
        keep_curves_through_rewrites as keep_curves_through_rewrites,
    )
    from gittree.gitio.notes import (
        keep_notes_through_rewrites as keep_notes_through_rewrites,
    )
    from gittree.gitio.notes import (
        note_lookups as note_lookups,
    )
    from gittree.gitio.notes import (
        note_of as note_of,
    )
    from gittree.gitio.notes import (
        notes_at as notes_at,
    )
    from gittree.gitio.notes import (
        notes_changed as notes_changed,
    )
    from gittree.gitio.notes import (
        notes_for as notes_for,
    )
    from gittree.gitio.notes import (
        notes_in_found as notes_in_found,
    )
    from gittree.gitio.notes import (
        notes_of_commit as notes_of_commit,
    )
    from gittree.gitio.notes import (
        read_notes as read_notes,
    )
    from gittree.gitio.notes import (
        write_notes_commit as write_notes_commit,
    )
    from gittree.gitio.objects import (
        CommitReader as CommitReader,
    )
    from gittree.gitio.objects import (
        GitBatch as GitBatch,
    )
    from gittree.gitio.objects import (
        commit_record as commit_record,
    )
    from gittree.gitio.objects import (
        commit_subject as commit_subject,
    )
    from gittree.gitio.objects import (
        commit_tree_time_parents as commit_tree_time_parents,
    )
    from gittree.gitio.objects import (
        diff_text as diff_text,
    )
    from gittree.gitio.objects import (
        file_in as file_in,
    )
    from gittree.gitio.objects import (
        files_in as files_in,
    )
    from gittree.gitio.objects import (
        files_under as files_under,
    )
    from gittree.gitio.objects import (
        match_commit_prefix as match_commit_prefix,
    )
    from gittree.gitio.objects import (
        object_exists as object_exists,
    )
    from gittree.gitio.objects import (
        read_blob as read_blob,
    )
    from gittree.gitio.objects import (
        read_objects as read_objects,
    )
    from gittree.gitio.objects import (
        read_one_record as read_one_record,
    )
    from gittree.gitio.objects import (
        read_record as read_record,
    )
    from gittree.gitio.objects import (
        resolve_names as resolve_names,
    )
    from gittree.gitio.objects import (
        tree_of as tree_of,
    )
    from gittree.gitio.objects import (
        tree_of_commit as tree_of_commit,
    )
    from gittree.gitio.plumbing import (
        EMPTY_TREE as EMPTY_TREE,
    )
    from gittree.gitio.plumbing import (
        CommitSettings as CommitSettings,
    )
    from gittree.gitio.plumbing import (
        add_temporary_worktree as add_temporary_worktree,
    )
    from gittree.gitio.plumbing import (
        add_to_index as add_to_index,
    )
    from gittree.gitio.plumbing import (
        carry_index as carry_index,
    )
    from gittree.gitio.plumbing import (
        changed_paths as changed_paths,
    )
    from gittree.gitio.plumbing import (
        checkout as checkout,
    )
    from gittree.gitio.plumbing import (
        commit_settings as commit_settings,
    )
    from gittree.gitio.plumbing import (
        commit_tree as commit_tree,
    )
    from gittree.gitio.plumbing import (
        commit_with_message as commit_with_message,
    )
    from gittree.gitio.plumbing import (
        has_staged_changes as has_staged_changes,
    )
    from gittree.gitio.plumbing import (
        hooks_folder as hooks_folder,
    )
    from gittree.gitio.plumbing import (
        merge_without_commit as merge_without_commit,
    )
    from gittree.gitio.plumbing import (
        read_tree as read_tree,
    )
    from gittree.gitio.plumbing import (
        remove_temporary_worktree as remove_temporary_worktree,
    )
    from gittree.gitio.plumbing import (
        reset_hard as reset_hard,
    )
    from gittree.gitio.plumbing import (
        revert as revert,
    )
    from gittree.gitio.plumbing import (
        stage_all as stage_all,
    )
    from gittree.gitio.plumbing import (
        stripspace as stripspace,
    )
    from gittree.gitio.plumbing import (
        untracked_files as untracked_files,
    )
    from gittree.gitio.plumbing import (
        worktree_differs as worktree_differs,
    )
    from gittree.gitio.plumbing import (
        write_blobs as write_blobs,
    )
    from gittree.gitio.plumbing import (
        write_commit_objects as write_commit_objects,
    )
    from gittree.gitio.plumbing import (
        write_objects as write_objects,
    )
    from gittree.gitio.plumbing import (
        write_tree as write_tree,
    )
    from gittree.gitio.refs import (
        ALL_REF_PREFIXES as ALL_REF_PREFIXES,
    )
    from gittree.gitio.refs import (
        CURVES_REF as CURVES_REF,
    )
    from gittree.gitio.refs import (
        GITTREE_REF_PREFIX as GITTREE_REF_PREFIX,
    )
    from gittree.gitio.refs import (
        GITTREE_REMOTE_REF_PREFIX as GITTREE_REMOTE_REF_PREFIX,
    )
    from gittree.gitio.refs import (
        NOTES_REF as NOTES_REF,
    )
    from gittree.gitio.refs import (
        NOTES_REWRITE_PATTERN as NOTES_REWRITE_PATTERN,
    )
    from gittree.gitio.refs import (
        SCOPE_REF_PREFIXES as SCOPE_REF_PREFIXES,
    )
    from gittree.gitio.refs import (
        ZERO_SHA as ZERO_SHA,
    )
    from gittree.gitio.refs import (
        RefState as RefState,
    )
    from gittree.gitio.refs import (
        branch_tips as branch_tips,
    )
    from gittree.gitio.refs import (
        current_branch as current_branch,
    )
    from gittree.gitio.refs import (
        delete_ref as delete_ref,
    )
    from gittree.gitio.refs import (
        head_and_branch as head_and_branch,
    )
    from gittree.gitio.refs import (
        head_is_unborn as head_is_unborn,
    )
    from gittree.gitio.refs import (
        head_sha as head_sha,
    )
    from gittree.gitio.refs import (
        is_valid_branch_name as is_valid_branch_name,
    )
    from gittree.gitio.refs import (
        list_refs as list_refs,
    )
    from gittree.gitio.refs import (
        listed_target as listed_target,
    )
    from gittree.gitio.refs import (
        parse_listing as parse_listing,
    )
    from gittree.gitio.refs import (
        read_refs as read_refs,
    )
    from gittree.gitio.refs import (
        ref_object as ref_object,
    )
    from gittree.gitio.refs import (
        ref_sha as ref_sha,
    )
    from gittree.gitio.refs import (
        ref_target as ref_target,
    )
    from gittree.gitio.refs import (
        refs_under as refs_under,
    )
    from gittree.gitio.refs import (
        resolve_commit as resolve_commit,
    )
    from gittree.gitio.refs import (
        resolve_commits as resolve_commits,
    )
    from gittree.gitio.refs import (
        symbolic_head as symbolic_head,
    )
    from gittree.gitio.refs import (
        tip_shas as tip_shas,
    )
    from gittree.gitio.refs import (
        update_ref as update_ref,
    )
    from gittree.gitio.refs import (
        update_refs as update_refs,
    )
    from gittree.gitio.remote import (
        fetch as fetch,
    )
    from gittree.gitio.remote import (
        name_clash as name_clash,
    )
    from gittree.gitio.remote import (
        push as push,
    )
    from gittree.gitio.remote import (
        remote_ref_names as remote_ref_names,
    )
    from gittree.gitio.repo import (
        MIN_GIT_VERSION as MIN_GIT_VERSION,
    )
    from gittree.gitio.repo import (
        NEWEST_TIP_SCAN as NEWEST_TIP_SCAN,
    )
    from gittree.gitio.repo import (
        CommittedFile as CommittedFile,
    )
    from gittree.gitio.repo import (
        Repo as Repo,
    )
    from gittree.gitio.repo import (
        add_config_value as add_config_value,
    )
    from gittree.gitio.repo import (
        check_git_version as check_git_version,
    )
    from gittree.gitio.repo import (
        checked_out_branches as checked_out_branches,
    )
    from gittree.gitio.repo import (
        comment_char as comment_char,
    )
    from gittree.gitio.repo import (
        common_dir as common_dir,
    )
    from gittree.gitio.repo import (
        config_all as config_all,
    )
    from gittree.gitio.repo import (
        config_value as config_value,
    )
    from gittree.gitio.repo import (
        config_values as config_values,
    )
    from gittree.gitio.repo import (
        git_path as git_path,
    )
    from gittree.gitio.repo import (
        index_path as index_path,
    )
    from gittree.gitio.repo import (
        init_repo as init_repo,
    )
    from gittree.gitio.repo import (
        list_remotes as list_remotes,
    )
    from gittree.gitio.repo import (
        open_repo as open_repo,
    )
    from gittree.gitio.repo import (
        operation_in_progress as operation_in_progress,
    )
    from gittree.gitio.repo import (
        parse_git_version as parse_git_version,
    )
    from gittree.gitio.repo import (
        read_committed_file as read_committed_file,
    )
    from gittree.gitio.repo import (
        read_shared_file as read_shared_file,
    )
    from gittree.gitio.repo import (
        read_top_file as read_top_file,
    )
    from gittree.gitio.repo import (
        read_worktree_file as read_worktree_file,
    )
    from gittree.gitio.repo import (
        remove_config_value as remove_config_value,
    )
    from gittree.gitio.repo import (
        shallow_boundary as shallow_boundary,
    )
    from gittree.gitio.runner import (
        GitResult as GitResult,
    )
    from gittree.gitio.runner import (
        git_env as git_env,
    )
    from gittree.gitio.runner import (
        git_says as git_says,
    )
    from gittree.gitio.runner import (
        popen as popen,
    )
    from gittree.gitio.runner import (
        run as run,
    )
    from gittree.rawcommit import (
        CommitFacts as CommitFacts,
    )
    from gittree.rawcommit import (
        batch_commits as batch_commits,
    )
    from gittree.rawcommit import (
        decode_message as decode_message,
    )
    from gittree.rawcommit import (
        parse_any_commit_object as parse_any_commit_object,
    )
    from gittree.rawcommit import (
        parse_commit_object as parse_commit_object,
    )

#: Where each name lives.
_HOMES = {
    "ALL_REF_PREFIXES": "gittree.gitio.refs",
    "CommitFacts": "gittree.rawcommit",
    "CommitReader": "gittree.gitio.objects",
    "GitBatch": "gittree.gitio.objects",
    "CommitSettings": "gittree.gitio.plumbing",
    "CommittedFile": "gittree.gitio.repo",
    "EMPTY_TREE": "gittree.gitio.plumbing",
    "GITTREE_REF_PREFIX": "gittree.gitio.refs",
    "GITTREE_REMOTE_REF_PREFIX": "gittree.gitio.refs",
    "GitResult": "gittree.gitio.runner",
    "KEEP_REF": "gittree.gitio.keep",
    "MIN_GIT_VERSION": "gittree.gitio.repo",
    "NEWEST_TIP_SCAN": "gittree.gitio.repo",
    "NOTES_REF": "gittree.gitio.refs",
    "NOTES_REWRITE_PATTERN": "gittree.gitio.refs",
    "CURVES_REF": "gittree.gitio.refs",
    "RefState": "gittree.gitio.refs",
    "Repo": "gittree.gitio.repo",
    "SCOPE_REF_PREFIXES": "gittree.gitio.refs",
    "ZERO_SHA": "gittree.gitio.refs",
    "add_config_value": "gittree.gitio.repo",
    "add_temporary_worktree": "gittree.gitio.plumbing",
    "add_to_index": "gittree.gitio.plumbing",
    "append_note": "gittree.gitio.notes",
    "append_notes": "gittree.gitio.notes",
    "batch_commits": "gittree.rawcommit",
    "branch_tips": "gittree.gitio.refs",
    "carry_index": "gittree.gitio.plumbing",
    "changed_paths": "gittree.gitio.plumbing",
    "check_git_version": "gittree.gitio.repo",
    "checked_out_branches": "gittree.gitio.repo",
    "checkout": "gittree.gitio.plumbing",
    "comment_char": "gittree.gitio.repo",
    "commit_settings": "gittree.gitio.plumbing",
    "commit_record": "gittree.gitio.objects",
    "commit_subject": "gittree.gitio.objects",
    "commit_tree": "gittree.gitio.plumbing",
    "commit_tree_time_parents": "gittree.gitio.objects",
    "commit_with_message": "gittree.gitio.plumbing",
    "FEW_COMMITS": "gittree.gitio.history",
    "commits_between": "gittree.gitio.history",
    "commits_only_from": "gittree.gitio.keep",
    "common_dir": "gittree.gitio.repo",
    "config_all": "gittree.gitio.repo",
    "config_value": "gittree.gitio.repo",
    "config_values": "gittree.gitio.repo",
    "current_branch": "gittree.gitio.refs",
    "decode_message": "gittree.rawcommit",
    "delete_ref": "gittree.gitio.refs",
    "diff_text": "gittree.gitio.objects",
    "experiment_landed": "gittree.gitio.history",
    "fetch": "gittree.gitio.remote",
    "file_in": "gittree.gitio.objects",
    "files_in": "gittree.gitio.objects",
    "files_under": "gittree.gitio.objects",
    "follow_rewrites": "gittree.gitio.keep",
    "forget_commits": "gittree.gitio.keep",
    "forgotten_shas": "gittree.gitio.keep",
    "git_env": "gittree.gitio.runner",
    "git_path": "gittree.gitio.repo",
    "git_says": "gittree.gitio.runner",
    "has_staged_changes": "gittree.gitio.plumbing",
    "head_is_unborn": "gittree.gitio.refs",
    "head_and_branch": "gittree.gitio.refs",
    "hooks_folder": "gittree.gitio.plumbing",
    "head_sha": "gittree.gitio.refs",
    "independent_commits": "gittree.gitio.keep",
    "index_path": "gittree.gitio.repo",
    "init_repo": "gittree.gitio.repo",
    "is_ancestor": "gittree.gitio.history",
    "is_keep_ref": "gittree.gitio.keep",
    "is_valid_branch_name": "gittree.gitio.refs",
    "keep_commits": "gittree.gitio.keep",
    "keep_covers": "gittree.gitio.keep",
    "keep_frontier": "gittree.gitio.keep",
    "keep_curves_through_rewrites": "gittree.gitio.notes",
    "keep_notes_through_rewrites": "gittree.gitio.notes",
    "kept_shas": "gittree.gitio.keep",
    "list_refs": "gittree.gitio.refs",
    "list_remotes": "gittree.gitio.repo",
    "match_commit_prefix": "gittree.gitio.objects",
    "merge_bases": "gittree.gitio.history",
    "merge_keep": "gittree.gitio.keep",
    "merge_without_commit": "gittree.gitio.plumbing",
    "name_clash": "gittree.gitio.remote",
    "note_lookups": "gittree.gitio.notes",
    "note_of": "gittree.gitio.notes",
    "notes_at": "gittree.gitio.notes",
    "notes_changed": "gittree.gitio.notes",
    "notes_for": "gittree.gitio.notes",
    "notes_in_found": "gittree.gitio.notes",
    "notes_of_commit": "gittree.gitio.notes",
    "object_exists": "gittree.gitio.objects",
    "open_repo": "gittree.gitio.repo",
    "operation_in_progress": "gittree.gitio.repo",
    "parse_any_commit_object": "gittree.rawcommit",
    "parse_commit_object": "gittree.rawcommit",
    "parse_git_version": "gittree.gitio.repo",
    "popen": "gittree.gitio.runner",
    "push": "gittree.gitio.remote",
    "reachable_from_refs": "gittree.gitio.history",
    "read_blob": "gittree.gitio.objects",
    "read_commit": "gittree.gitio.history",
    "read_commits": "gittree.gitio.history",
    "read_committed_file": "gittree.gitio.repo",
    "read_notes": "gittree.gitio.notes",
    "read_objects": "gittree.gitio.objects",
    "read_one_record": "gittree.gitio.objects",
    "read_record": "gittree.gitio.objects",
    "read_refs": "gittree.gitio.refs",
    "parse_listing": "gittree.gitio.refs",
    "listed_target": "gittree.gitio.refs",
    "read_shared_file": "gittree.gitio.repo",
    "read_top_file": "gittree.gitio.repo",
    "read_worktree_file": "gittree.gitio.repo",
    "read_tree": "gittree.gitio.plumbing",
    "ref_sha": "gittree.gitio.refs",
    "ref_object": "gittree.gitio.refs",
    "ref_target": "gittree.gitio.refs",
    "refs_under": "gittree.gitio.refs",
    "remote_ref_names": "gittree.gitio.remote",
    "remove_config_value": "gittree.gitio.repo",
    "remove_temporary_worktree": "gittree.gitio.plumbing",
    "reset_hard": "gittree.gitio.plumbing",
    "resolve_commit": "gittree.gitio.refs",
    "resolve_commits": "gittree.gitio.refs",
    "resolve_names": "gittree.gitio.objects",
    "revert": "gittree.gitio.plumbing",
    "run": "gittree.gitio.runner",
    "shallow_boundary": "gittree.gitio.repo",
    "stage_all": "gittree.gitio.plumbing",
    "start_commits_only_from": "gittree.gitio.keep",
    "new_commits": "gittree.gitio.history",
    "stream_commits": "gittree.gitio.history",
    "stripspace": "gittree.gitio.plumbing",
    "symbolic_head": "gittree.gitio.refs",
    "tip_shas": "gittree.gitio.refs",
    "tree_of": "gittree.gitio.objects",
    "tree_of_commit": "gittree.gitio.objects",
    "untracked_files": "gittree.gitio.plumbing",
    "update_ref": "gittree.gitio.refs",
    "update_refs": "gittree.gitio.refs",
    "worktree_differs": "gittree.gitio.plumbing",
    "write_blobs": "gittree.gitio.plumbing",
    "write_commit_objects": "gittree.gitio.plumbing",
    "write_objects": "gittree.gitio.plumbing",
    "write_notes_commit": "gittree.gitio.notes",
    "write_tree": "gittree.gitio.plumbing",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    """``gitio.NAME``: imported from its module on first use, then kept here (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
