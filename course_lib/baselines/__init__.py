"""Baselines that give every neural result of the course a meaning, all in NumPy.

- ``NGramLM``, ``ngram_perplexities``  n-gram language model with add-k or Kneser-Ney smoothing (chapter 1)
- ``MostFrequentTagTagger``           each word gets the tag it had most often in training (chapter 8)
- ``BagOfWordsLogisticRegression``    sentiment from bag-of-character-n-grams counts (chapter 9)
"""

from .bow import BagOfWordsLogisticRegression, char_ngrams
from .ngram import NGramLM, ngram_perplexities
from .tagger import MostFrequentTagTagger

__all__ = ["NGramLM", "ngram_perplexities", "MostFrequentTagTagger", "BagOfWordsLogisticRegression",
           "char_ngrams"]
