"""Shape checks at the entry of the public forward functions, with messages that teach.

A wrong shape in NumPy often fails deep inside a matrix product ("matmul: Input operand 1 has a mismatch in its core
dimension 0 ...") or, worse, broadcasts silently into a wrong answer. ``check_shapes`` names the function, the argument,
the shape found and the shape expected in the letters of the book (N batch, T steps, D inputs, H hidden units), and adds
a hint for the usual mistake. It costs a few comparisons per call.
"""


def _fmt(shape):
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shapes(fn, *specs):
    """Raise ``ValueError`` unless every array has the expected number of axes and the letters agree.

    Parameters
    ----------
    fn : str
        Name of the calling function, first word of the message.
    *specs : tuple of (str, ndarray, str, str)
        ``(name, array, letters, hint)`` for each argument, e.g. ``("x", x, "NTD", "did you pass one step?")``.
        The letters name the axes; the same letter must have the same size in every argument. A letter such as
        ``"4H"`` is written as one axis with a factor: ``("Wx", Wx, ("D", "4H"), "")``.
    """
    sizes = {}
    for name, array, letters, hint in specs:
        shape = array.shape
        if len(shape) != len(letters):
            _fail(fn, name, shape, letters, hint)
        for letter, size in zip(letters, shape, strict=True):
            factor = 1
            if letter[0].isdigit():
                factor, letter = int(letter[0]), letter[1:]
                if size % factor:
                    _fail(fn, name, shape, letters, hint, sizes)
                size //= factor
            known = sizes.setdefault(letter, size)
            if known != size:
                _fail(fn, name, shape, letters, hint, sizes)


def _fail(fn, name, shape, letters, hint, sizes=None):
    expected = "(" + ", ".join(letters) + ("," if len(letters) == 1 else "") + ")"
    message = f"{fn}: {name} has shape {_fmt(shape)} but should be {expected}"
    if sizes:
        message += " with " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + " from the arguments before it"
    if hint:
        message += f"; {hint}"
    raise ValueError(message)
