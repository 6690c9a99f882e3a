"""Turn a chapter, as the book executes it, into a notebook that runs anywhere (a laptop, Colab) and reads well there.

The book's pages use MyST features that only the book build understands. A downloaded chapter gets:

- a first cell that installs ``course_lib`` from the wheel the website ships, when it is not importable;
- ``glue`` (myst-nb's way of handing numbers and figures to the prose) replaced by a small function that shows each
  figure where it is made, so figures appear when the notebook is re-run;
- the prose with every ``{glue:text}`` placeholder replaced by its value, and every role (``{ref}``, ``{numref}``,
  ``{eq}``, ``{cite}``, ``{download}``, …) and directive rendered as plain Markdown.

Pure functions of a notebook and a ``References`` object (numbers and titles that the book build knows), so that the
conversion can be tested without Sphinx.
"""

import ast
import re
from dataclasses import dataclass, field

import nbformat

WHEEL_HELP = "the course website's page *Running the notebooks*"

SETUP_MARKDOWN = """\
**Running this notebook.** In the course's environment (`make book`, then `source .venv/bin/activate`) it runs as it
is. Anywhere else (your own Python, Colab), download `{wheel}` from {where} into the folder of this notebook (in Colab:
the *Files* panel) and run the next cell once: it installs `course_lib` and the packages it needs."""

SETUP_CODE = '''\
# Set-up: installs course_lib from the wheel next to this notebook, if it is not installed yet.
import importlib.util
import pathlib
import subprocess
import sys

if importlib.util.find_spec("course_lib") is None:
    wheels = sorted(pathlib.Path().glob("course_lib-*.whl"))
    if not wheels:
        raise RuntimeError("course_lib is not installed: download {wheel} from the course website "
                           "(page 'Running the notebooks') into this folder, then run this cell again.")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", str(wheels[-1])])'''

GLUE_SHIM = '''\
def glue(name, value, display=True):
    """In the book, glue() hands a value to the prose. Here it shows figures where they are made."""
    import matplotlib.figure
    from IPython.display import display as show

    if isinstance(value, matplotlib.figure.Figure):
        show(value)'''

_GLUE_IMPORT = re.compile(r"^from myst_nb import glue\s*$", re.M)
_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
_FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*?)\n(.*?)^\1[ \t]*(?:\n|\Z)", re.M | re.S)
_LABEL_LINE = re.compile(r"^\([\w:-]+\)=[ \t]*\n", re.M)
_EQUATION_LABEL = re.compile(r"(\$\$)[ \t]*\(([\w:-]+)\)[ \t]*$", re.M)
_OPTION_LINE = re.compile(r"^:[\w-]+:.*\n?", re.M)


@dataclass
class References:
    """What the book build knows about labels: section titles, figure and equation numbers, citations."""

    sections: dict = field(default_factory=dict)  # label -> title
    figures: dict = field(default_factory=dict)  # label -> "2.1"
    equations: dict = field(default_factory=dict)  # label -> "2.1"
    citations: dict = field(default_factory=dict)  # key -> ("Authors", "year")
    glued: dict = field(default_factory=dict)  # glue name -> value


def glued_values(notebook):
    """The values a notebook's cells glued (name -> Python value, or the text myst-nb stored for it)."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = output.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            prefix = record.get("mime_prefix", "")
            text = output.get("data", {}).get(f"{prefix}text/plain")
            if text is None:
                continue
            try:
                values[record["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[record["name"]] = text.strip("'\"")
    return values


def _split_target(text):
    """``"title <label>"`` -> ("title", "label"); ``"label"`` -> (None, "label")."""
    match = re.fullmatch(r"\s*(.*?)\s*<([^>]+)>\s*", text, re.S)
    return (match.group(1), match.group(2)) if match else (None, text.strip())


def _cite(keys, refs, textual):
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        authors, year = refs.citations.get(key, (key, ""))
        parts.append(f"{authors} ({year})" if textual else f"{authors} {year}".strip())
    return "; ".join(parts) if textual else f"({'; '.join(parts)})"


def render_role(name, content, refs):
    """Plain Markdown for one MyST role."""
    if name == "glue:text":
        key, _, spec = content.partition(":")
        value = refs.glued.get(key, key)
        try:
            return format(value, spec) if spec else str(value)
        except (TypeError, ValueError):
            return str(value)
    if name.startswith("cite"):
        return _cite(content, refs, textual=name in ("cite:t", "cite:ts"))
    title, target = _split_target(content)
    if name == "ref":
        return f"*{title or refs.sections.get(target, target)}*"
    if name == "numref":
        number = refs.figures.get(target, "?")
        return title.replace("%s", number).replace("{number}", number) if title else f"Figure {number}"
    if name == "eq":
        return f"({refs.equations.get(target, '?')})"
    if name in ("download", "doc"):
        return title or target
    return f"`{content}`" if name in ("code", "file", "command") else (title or content)


def _render_fence(match, refs):
    _, name, argument, body = match.groups()
    body = _OPTION_LINE.sub("", body).strip("\n")
    if name == "glue:figure":
        number = refs.figures.get(argument.strip(), "")
        figure_id = _name_option(match.group(0)) or argument.strip()
        number = refs.figures.get(figure_id, number)
        return f"*Figure {number} (the figure above).* {render_markdown(body, refs)}".strip() + "\n"
    if name in ("math", "amsmath"):
        return f"$$\n{body}\n$$\n"
    if name in ("bibliography", "tableofcontents", "glossary"):
        return ""
    title = argument.strip() or name.capitalize()
    quoted = "\n".join(f"> {line}" if line else ">" for line in render_markdown(body, refs).splitlines())
    return f"> **{title}.**\n>\n{quoted}\n"


def _name_option(fence_text):
    match = re.search(r"^:name:\s*(\S+)", fence_text, re.M)
    return match.group(1) if match else None


def render_markdown(text, refs):
    """A MyST Markdown cell as plain Markdown (Jupyter's renderer)."""
    text = _LABEL_LINE.sub("", text)
    text = _FENCE.sub(lambda m: _render_fence(m, refs), text)
    text = _EQUATION_LABEL.sub(r"\1", text)
    return _ROLE.sub(lambda m: render_role(m.group(1), m.group(2), refs), text)


def make_portable(notebook, refs, wheel_name):
    """Rewrite an executed chapter notebook in place (see the module docstring); return it."""
    refs.glued = {**glued_values(notebook), **refs.glued}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = render_markdown(cell.source, refs)
        elif cell.cell_type == "code" and _GLUE_IMPORT.search(cell.source):
            cell.source = _GLUE_IMPORT.sub(GLUE_SHIM, cell.source)
    where = WHEEL_HELP
    notebook.cells[:0] = [
        nbformat.v4.new_markdown_cell(SETUP_MARKDOWN.format(wheel=wheel_name, where=where)),
        nbformat.v4.new_code_cell(SETUP_CODE.format(wheel=wheel_name)),
    ]
    for i, cell in enumerate(notebook.cells[:2]):
        cell["id"] = f"course-setup-{i}"
    return notebook
