"""Release, self-check and autograde the nbgrader exercise sets (the machinery behind the ``course`` command).

- ``release``   ``solutions/`` -> ``exercises/``, deterministic
- ``check``     a learner's self-check of the visible tests
- ``grade``     autograde a class: intake, sandboxed execution, trusted scoring, gradebook, feedback,
  grades.csv
- ``notebooks`` nbgrader metadata, rebuilding a submission from the trusted structure, reading cell outcomes
- ``scoring``   expected reports from the solution and the comparison that decides points
- ``intake``    submissions from folders, bare notebooks, zips and LMS file names
- ``gradebook`` nbgrader's gradebook on SQLite or PostgreSQL
- ``feedback``  per-student HTML pages
- ``execution`` running notebooks (trusted, or through ``sandbox``)
- ``sandbox``   bubblewrap isolation and limits for untrusted code
"""
