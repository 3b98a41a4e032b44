"""Every number on the demo store is what it was before the metrics room was rebuilt."""

import json

from golden_numbers import GOLDEN, demo_numbers


def test_every_number_on_the_demo_store_is_unchanged(tmp_path):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(demo_numbers(tmp_path), sort_keys=True))
    for source in expected:
        for section in expected[source]:
            assert actual[source][section] == expected[source][section], (source, section)
    assert actual == expected
