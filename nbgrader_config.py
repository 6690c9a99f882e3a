"""nbgrader configuration: the course keeps nbgrader's layout under its own folder names.

``course release`` (course_lib.grading.release) follows the same settings, so nbgrader's own tools
(the "Create Assignment" toolbar, ``nbgrader validate``) and the ``course`` command agree.
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///grading-out/gradebook.db"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
