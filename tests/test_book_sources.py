"""Fast checks of every page's sources, without executing anything: what the -W build would reject late.

Every glue key pasted into the prose is glued by a cell, every glue format spec is valid, every citation is in
references.bib, every {ref} label and {numref} figure exists, and every {download} target is a file.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_glue_citation_and_reference_of_the_page_exists(page):
    text = page.read_text(encoding="utf-8")
    # glue("name", ...) or glue(f"name{i}", ...): an f-string's fields match anything
    glued = [re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(name)) for name in re.findall(r'glue\(f?"([^"]+)"', text)]
    used = set(re.findall(r"\{glue:text\}`([^`:]+)", text))
    used |= set(re.findall(r"^```\{glue:figure\} (\S+)", text, re.M))
    never_glued = sorted(key for key in used if not any(re.fullmatch(pattern, key) for pattern in glued))
    assert not never_glued, f"pasted but never glued: {never_glued}"
    for spec in re.findall(r"\{glue:text\}`[^`:]+:([^`]+)`", text):
        example = 1.5 if spec[-1] in "eEfFgG%" else 1
        format(example, spec)  # a typo such as ".1f}" would make the -W build fail
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for k in group.split(",")}
    assert cited <= keys, f"missing from references.bib: {sorted(cited - keys)}"
    labels = {label for p in PAGES for label in re.findall(r"^\(([\w-]+)\)=", p.read_text(encoding="utf-8"), re.M)}
    refs = set(re.findall(r"\{ref\}`([^`<]+)`", text)) | set(re.findall(r"\{ref\}`[^`<]*<([^>]+)>`", text))
    assert refs <= labels, f"unknown labels: {sorted(refs - labels)}"
    figures = set(re.findall(r"^:name: (\S+)", text, re.M))
    numrefs = set(re.findall(r"\{numref\}`([^`<]+)`", text))
    assert numrefs <= figures, f"numref to a figure the page does not name: {sorted(numrefs - figures)}"
    for target in re.findall(r"\{download\}`[^<`]*<([^>]+)>`", text):
        assert (page.parent / target).resolve().is_file(), target


def test_every_page_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    missing = [p.stem for p in PAGES if f"book/{p.stem}" not in toc]
    assert not missing, f"pages not in _toc.yml (only_build_toc_files skips them): {missing}"
