"""Every CCL2xx finding says its cost class, in the message and as a property; a chain cites its worst call."""

from __future__ import annotations

from pathlib import Path

from conclint.engine.run import check_source

FIXTURE = Path(__file__).parent / "fixtures" / "blocking" / "cost_classes.py"


def _by_row():
    findings = check_source(FIXTURE.read_text(encoding="utf-8"))
    by_row = {}
    for finding in findings:
        by_row.setdefault(finding.span.row, []).append(finding)
    return by_row


def test_the_cost_class_is_in_the_message_and_the_properties():
    by_row = _by_row()
    (exists,) = by_row[12]
    assert dict(exists.properties) == {"cost": "bounded"}
    assert "(file system, bounded: one short system call)" in exists.message
    (listing,) = by_row[24]
    assert dict(listing.properties) == {"cost": "unbounded"}
    assert "(file system, unbounded)" in listing.message
    assert [dict(f.properties)["cost"] for f in by_row[17] + by_row[18] + by_row[19]] == [
        "bounded",  # open
        "bounded",  # read(16)
        "unbounded",  # read()
    ]


def test_a_chain_cites_its_worst_call():
    by_row = _by_row()
    (wait,) = by_row[37]
    assert "`time.sleep()` (CCL201, sleep, unbounded)" in wait.message
    assert dict(wait.properties) == {"cost": "unbounded"}
    (settings,) = by_row[61]
    assert "`json.load()` (CCL204, file system, unbounded)" in settings.message
    (modified,) = by_row[46]
    assert "`os.stat()` (CCL204, file system, bounded: one short system call)" in modified.message


def test_every_call_is_rendered_from_its_source():
    texts = sorted(f.message.split("`")[1] for f in _by_row()[51])
    assert texts == ["open()", "open(...).read()"]


def test_start_up_code_is_named_as_such():
    source = (Path(__file__).parent / "fixtures" / "blocking" / "start_up.py").read_text(encoding="utf-8")
    by_row = {f.span.row: f.message for f in check_source(source)}
    assert "`async def prepare()`, start-up code that runs once before the app serves requests (" in by_row[12]
    assert "start-up code" in by_row[22]
    assert "start-up" not in by_row[28]


def _costs(by_row, row):
    return [dict(finding.properties)["cost"] for finding in by_row[row]]


def test_reads_of_files_of_known_small_size_are_bounded():
    by_row = _by_row()
    assert _costs(by_row, 83) == ["bounded"]  # a cgroup integer, through a module constant
    assert _costs(by_row, 88) == ["bounded"]  # /proc/self/status
    assert _costs(by_row, 95) == ["bounded"]  # a template shipped next to the module
    assert _costs(by_row, 102) == ["unbounded"]  # a file under a folder the caller names
    assert "(file system, bounded: a file of known small size)" in by_row[83][0].message


def test_a_constant_sleep_of_a_few_milliseconds_is_bounded_once_but_not_in_a_loop():
    by_row = _by_row()
    assert _costs(by_row, 111) == ["bounded"]  # through a helper: the chain is bounded
    assert _costs(by_row, 112) == ["bounded"]
    assert "(sleep, bounded: a sleep of at most 5 ms)" in by_row[112][0].message
    assert _costs(by_row, 118) == ["unbounded"]  # repeated until a condition holds
    assert _costs(by_row, 119) == ["unbounded"]  # half a second


def test_a_model_hub_download_is_cited_over_the_stat_before_it():
    source = (Path(__file__).parent / "fixtures" / "blocking" / "sdk_clients.py").read_text(encoding="utf-8")
    (finding,) = [f for f in check_source(source) if f.code == "CCL210" and "embedding_model" in f.message]
    assert "`snapshot_download()` (CCL202, network, unbounded)" in finding.message


def test_a_method_of_an_object_built_on_the_spot_is_followed():
    source = (Path(__file__).parent / "fixtures" / "blocking" / "built_on_the_spot.py").read_text(encoding="utf-8")
    (finding,) = check_source(source)
    assert "has_metadata() -> Reader.read_file() -> `handle.read()` (CCL204, file system, unbounded)" in finding.message
