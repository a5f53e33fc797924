#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every golden JSON output of kservicectl (tests/ctl/golden/*.json, written by test-ctl-format)
is valid against ctl/kservicectl.schema.json (JSON Schema draft 2020-12), and each command of
the schema has at least one golden case.

usage: test-ctl-schema.py SCHEMA GOLDEN-DIR
Exit 77 (skip) when the Python module jsonschema is missing (Debian: python3-jsonschema,
in the test set of tools/deps.sh).
"""
import glob
import json
import os
import sys

SKIP = 77


def main():
    schema_path, golden = sys.argv[1:3]
    try:
        import jsonschema
    except ImportError:
        print('SKIP: the Python module jsonschema is not installed (Debian package python3-jsonschema)')
        return SKIP
    with open(schema_path, encoding='utf-8') as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    if cls is not jsonschema.Draft202012Validator:
        print(f'FAIL: {schema_path} is not a draft 2020-12 schema ($schema: {schema.get("$schema")})')
        return 1
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    failed = 0
    seen = set()
    files = sorted(glob.glob(os.path.join(golden, '*.json')))
    for path in files:
        with open(path, encoding='utf-8') as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        name = os.path.basename(path)
        if errors:
            failed += 1
            print(f'FAIL: {name}')
            for e in errors:
                print(f'  at /{"/".join(str(p) for p in e.path)}: {e.message}')
        else:
            print(f'ok: {name}')
            seen.add(doc.get('command'))
            # The schema is strict enough to notice drift: an unknown member is refused.
            doc['bogus'] = 1
            if validator.is_valid(doc):
                failed += 1
                print(f'FAIL: {name} with an unknown member "bogus" still validates')
    commands = set(schema['properties']['command']['enum'])
    if seen != commands:
        print(f'FAIL: commands with a valid golden case {sorted(seen)} != the schema\'s {sorted(commands)}')
        failed += 1
    if not files:
        print(f'FAIL: no golden JSON in {golden}')
        return 1
    print(f'{len(files)} outputs checked, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
