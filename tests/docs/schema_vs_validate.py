#!/usr/bin/env python3
"""The JSON Schema and `wp validate` must agree on every example and fixture.

Each manifest is checked twice: converted by tomllib and validated against
schemas/manifest.schema.json (Draft 2020-12, what editors such as Taplo use),
and by `wp validate --json`. A manifest valid for one and invalid for the
other fails the test, unless it is listed in EXPECTED_TO_DIFFER with the
reason no schema can express the rule; a listed manifest that agrees fails
too, so that the list stays true.

`wp validate` also checks that every job fits the machine; it runs against a
recorded 16-core, 2-GPU workstation (WP_HOST_ROOT) so that the answer does
not depend on the machine running the test.

usage: schema_vs_validate.py WP SOURCE_DIR HOST_ROOT
"""

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from jsonschema import Draft202012Validator

# Rules about the manifest as a whole, after matrix expansion: a schema sees
# one value at a time and cannot follow names from one job to another.
EXPECTED_TO_DIFFER = {
    "after_unknown_job.toml": "an `after` name must be a job's name: a schema cannot look names up",
    "cycle_matrix.toml": "dependency cycles are a property of the graph of jobs",
    "cycle_three.toml": "dependency cycles are a property of the graph of jobs",
    "self_dependency.toml": "a job naming itself in `after` compares two values of one job",
    "duplicate_name.toml": "unique names across [[job]] tables: uniqueItems sees whole tables",
    "duplicate_after_matrix.toml": "names are only known after matrix expansion",
    "matrix_too_large.toml": "the product of the matrix's value counts is not a schema keyword",
    "argv_emptied_by_matrix.toml": "argv[0] is empty only once a matrix value is substituted",
}


def manifests(source_dir):
    """Every example and every manifest fixture, sorted within each group."""
    groups = [
        source_dir / "examples",
        source_dir / "tests/data/manifests/good",
        source_dir / "tests/data/manifests/bad",
    ]
    for group in groups:
        yield from sorted(group.glob("*.toml"))


def schema_verdict(validator, path):
    """(valid, first problem) by the schema; TOML syntax errors are invalid."""
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        return False, f"invalid TOML: {error}"
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return True, ""
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(document)"
    return False, f"{where}: {first.message}"


def wp_verdict(wp, path, host_root, db):
    """(valid, first problem) by `wp validate --json`."""
    env = dict(os.environ, WP_HOST_ROOT=str(host_root), WP_DB=db)
    result = subprocess.run(
        [wp, "validate", "--json", str(path)], capture_output=True, text=True, env=env, timeout=60
    )
    if result.returncode not in (0, 2):
        raise RuntimeError(f"wp validate {path} exited {result.returncode}: {result.stderr}")
    report = json.loads(result.stdout)
    if report["valid"] != (result.returncode == 0):
        raise RuntimeError(f"wp validate {path}: exit status and document disagree")
    errors = report["errors"]
    first = f"{errors[0]['line']}:{errors[0]['column']}: {errors[0]['message']}" if errors else ""
    return report["valid"], first


def main():
    wp, source_dir, host_root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    with open(source_dir / "schemas/manifest.schema.json") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)

    failures = []
    checked = 0
    seen = set()
    # No user's database: an IOPS figure stored there would change the capacity.
    scratch = tempfile.TemporaryDirectory()
    db = os.path.join(scratch.name, "absent.db")
    for path in manifests(source_dir):
        checked += 1
        seen.add(path.name)
        by_schema, schema_problem = schema_verdict(validator, path)
        by_wp, wp_problem = wp_verdict(wp, path, host_root, db)
        name = path.relative_to(source_dir)
        expected = EXPECTED_TO_DIFFER.get(path.name)
        if by_schema == by_wp and expected:
            failures.append(f"{name}: listed as expected to differ ({expected}), but both say "
                            f"{'valid' if by_wp else 'invalid'}")
        elif by_schema != by_wp and not expected:
            failures.append(
                f"{name}: the schema says {'valid' if by_schema else 'invalid'}"
                f"{' (' + schema_problem + ')' if schema_problem else ''}, wp validate says "
                f"{'valid' if by_wp else 'invalid'}{' (' + wp_problem + ')' if wp_problem else ''}")
        elif expected and by_schema != by_wp:
            print(f"{name}: differs as expected: {expected}")
    for name in sorted(set(EXPECTED_TO_DIFFER) - seen):
        failures.append(f"{name}: listed as expected to differ but there is no such manifest")

    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"{checked} manifests checked against the schema and wp validate; "
          f"{len(failures)} disagreement(s)")
    return 1 if failures or checked < 30 else 0


if __name__ == "__main__":
    sys.exit(main())
