"""Serve MathJax 3 from the site itself when the Makefile has installed it into _static/mathjax.

With a local copy the site shows maths offline and where CDNs are blocked. Without one (no npm on the machine),
Sphinx's default CDN address stays in place and the Makefile has already said so.
"""

from pathlib import Path

LOCAL_MATHJAX = "mathjax/tex-chtml.js"


def _use_local_mathjax(app, config):
    static = Path(app.confdir) / "_static" / LOCAL_MATHJAX
    if static.is_file():
        config.mathjax_path = LOCAL_MATHJAX


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
