"""Baselines that give every neural result of the course a meaning: ours in NumPy where they are lessons, the
field's library (scikit-learn) where they are not.

- ``NGramLM``, ``ngram_perplexities``  n-gram language model with add-k or Kneser-Ney smoothing (chapter 1)
- ``MostFrequentTagTagger``           each word gets the tag it had most often in training (chapter 8)
- ``BagOfWordsLogisticRegression``    sentiment from bag-of-character-n-grams counts, hand-written, untuned
- ``TfidfLogisticRegression``, ``tune_tfidf_logistic_regression``
                                      sentiment from character 1-3-gram TF-IDF, C chosen on validation
                                      (scikit-learn; chapter 9 and benchmarks/results.py)
"""

from .bow import BagOfWordsLogisticRegression, char_ngrams
from .ngram import NGramLM, ngram_perplexities
from .tagger import MostFrequentTagTagger

_SCIKIT_LEARN_NAMES = ("TfidfLogisticRegression", "tune_tfidf_logistic_regression")

__all__ = [
    "NGramLM",
    "ngram_perplexities",
    "MostFrequentTagTagger",
    "BagOfWordsLogisticRegression",
    "char_ngrams",
    "TfidfLogisticRegression",
    "tune_tfidf_logistic_regression",
]


def __getattr__(name):
    """Import the scikit-learn baseline only when it is asked for: importing scikit-learn takes seconds, and
    the chapters that use only the NumPy baselines should not pay for it."""
    if name in _SCIKIT_LEARN_NAMES:
        from . import tfidf

        return getattr(tfidf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
