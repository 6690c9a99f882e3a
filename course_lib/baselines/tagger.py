"""The most-frequent-tag part-of-speech tagger: the baseline of the sequence-labelling chapter (chapter *Sequence
labelling*).

Each word gets the tag it carried most often in the training sentences, whatever its neighbours. A word never
seen in training gets the tag most common among the words seen only once (rare words behave like unknown ones:
mostly nouns, names and numbers), which is a better guess than the overall most frequent tag.
"""

from __future__ import annotations

import collections

import numpy as np


class MostFrequentTagTagger:
    """Context-free tagger: word -> its most frequent training tag.

    Use: ``MostFrequentTagTagger().fit(train_sentences).accuracy(test_sentences)`` with sentences as sequences
    of (word, tag) pairs, e.g. from ``course_lib.data.corpora.people_daily_tagged``.

    Attributes
    ----------
    tag_of_word : dict
        word -> tag (after ``fit``)
    unknown_tag : str
        the tag given to unseen words (after ``fit``)
    """

    def __init__(self):
        self.tag_of_word: dict[str, str] = {}
        self.unknown_tag: str | None = None

    def fit(self, sentences) -> MostFrequentTagTagger:
        """Count (word, tag) pairs over training sentences. Returns self."""
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for sentence in sentences:
            for word, tag in sentence:
                counts[word][tag] += 1
        # Ties go to the alphabetically first tag, so the result does not depend on the order of the corpus.
        self.tag_of_word = {
            word: min(tags.items(), key=lambda item: (-item[1], item[0]))[0] for word, tags in counts.items()
        }
        rare_tags = collections.Counter(
            self.tag_of_word[word] for word, tags in counts.items() if sum(tags.values()) == 1
        )
        all_tags = collections.Counter(tag for tags in counts.values() for tag in tags.elements())
        source = rare_tags or all_tags
        self.unknown_tag = min(source.items(), key=lambda item: (-item[1], item[0]))[0]
        return self

    def predict(self, words) -> list[str]:
        """Tags of a sequence of words."""
        if self.unknown_tag is None:
            raise RuntimeError("call fit before predict")
        return [self.tag_of_word.get(word, self.unknown_tag) for word in words]

    def accuracy(self, sentences) -> dict[str, float]:
        """Token accuracy on tagged sentences, overall and separately on words seen / unseen in training.

        Returns: {"accuracy", "known_accuracy", "unknown_accuracy", "unknown_fraction"}.
        """
        correct, known = [], []
        for sentence in sentences:
            words = [word for word, _ in sentence]
            for (word, tag), predicted in zip(sentence, self.predict(words), strict=True):
                correct.append(predicted == tag)
                known.append(word in self.tag_of_word)
        correct, known = np.array(correct), np.array(known)
        return {
            "accuracy": float(correct.mean()),
            "known_accuracy": float(correct[known].mean()) if known.any() else float("nan"),
            "unknown_accuracy": float(correct[~known].mean()) if (~known).any() else float("nan"),
            "unknown_fraction": float((~known).mean()),
        }
