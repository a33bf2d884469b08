"""Pages generated from the code stay in step with it."""

from pathlib import Path

from conclint.model.catalogue import CATALOGUE, catalogue_markdown

DOCS = Path(__file__).parent.parent / "docs"


def test_blocking_calls_page_is_generated_from_the_catalogue():
    page = (DOCS / "blocking-calls.md").read_text(encoding="utf-8")
    assert page == catalogue_markdown(), (
        "regenerate: python -c 'from conclint.model.catalogue import catalogue_markdown; print(catalogue_markdown(), "
        'end="")\' > docs/blocking-calls.md'
    )
    assert all(f"`{api.name}`" in page for api in CATALOGUE)
