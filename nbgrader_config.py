"""nbgrader configuration: the course keeps nbgrader's layout under its own folder names.

``course release`` (course_lib.grading.release) follows the same settings, so nbgrader's own tools
(the "Create Assignment" toolbar, ``nbgrader validate``) and the ``course`` command agree.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# nbgrader's own gradebook (for `nbgrader generate_assignment`, formgrader...): SQLite cannot create a missing
# folder, so make it here, beside this file whatever the current directory (it is git-ignored).
_GRADING_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grading-out")  # noqa: F821
os.makedirs(_GRADING_OUT, exist_ok=True)
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_GRADING_OUT, "gradebook.db")
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
