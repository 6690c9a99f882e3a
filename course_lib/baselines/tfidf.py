"""A tuned TF-IDF logistic regression over character n-grams: the sentiment baseline of the chapter *Sequence
classification* and of ``benchmarks/results.py``.

A baseline, not a lesson, so it uses the field's library, scikit-learn. Chinese has no spaces, so
the features are character n-grams (orders 1 to 3: '不好用' gives 不, 好, 用, 不好, 好用, 不好用), weighted by
TF-IDF (term frequency times inverse document frequency) with a sublinear term frequency 1 + log(tf) and each
review's vector scaled to unit length. A logistic regression with an L2 penalty reads them; its inverse
regularization strength C is chosen on the validation split, never on the test split.

- ``TfidfLogisticRegression``   one model with a fixed C (fit, predict, predict_proba, accuracy, top_features)
- ``tune_tfidf_logistic_regression``   fit one model per C on the training split (the vectorizer is fitted
                                        once and shared) and keep the best on the validation split

References: Wang & Manning (2012), "Baselines and bigrams", show that such n-gram linear models are strong
sentiment baselines.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

DEFAULT_CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # a grid wide enough that the best C lies inside it


def make_vectorizer(ngram_range=(1, 3), min_df: int = 2) -> TfidfVectorizer:
    """TF-IDF over character n-grams of the given orders, keeping n-grams seen in at least min_df training
    reviews (rarer ones cannot generalise and only slow the fit)."""
    return TfidfVectorizer(analyzer="char", ngram_range=tuple(ngram_range), min_df=min_df, sublinear_tf=True)


class TfidfLogisticRegression:
    """Character n-gram TF-IDF features -> L2-penalised logistic regression; labels 0/1.

    Parameters
    ----------
    C : float
        inverse strength of the L2 penalty (larger C: weaker penalty)
    ngram_range : tuple of int
        (smallest, largest) n-gram order
    min_df : int
        see ``make_vectorizer``
    vectorizer : TfidfVectorizer or None
        an already fitted vectorizer to reuse (then ``fit`` does not refit it)
    """

    def __init__(self, C: float = 1.0, ngram_range=(1, 3), min_df: int = 2, vectorizer=None):
        self.C, self.ngram_range, self.min_df = C, tuple(ngram_range), min_df
        self.vectorizer = vectorizer
        self.classifier = None

    def fit(self, texts, labels, features=None) -> TfidfLogisticRegression:
        """Fit the vectorizer (unless given) and the classifier on the training texts. ``features``: the
        texts' TF-IDF matrix (N, F), if already computed with this model's vectorizer. Returns self."""
        if self.vectorizer is None:
            self.vectorizer = make_vectorizer(self.ngram_range, self.min_df)
            features = self.vectorizer.fit_transform(texts)
        elif features is None:
            features = self.vectorizer.transform(texts)
        # liblinear: exact, deterministic and, on one core, the fastest solver for this sparse binary problem
        self.classifier = LogisticRegression(C=self.C, solver="liblinear")
        self.classifier.fit(features, np.asarray(labels))
        return self

    def features(self, texts):
        """TF-IDF matrix of the texts, sparse (N, F)."""
        return self.vectorizer.transform(texts)

    def predict_proba(self, texts=None, features=None) -> np.ndarray:
        """P(positive) of each text, (N,). Give texts, or their ``features``."""
        features = self.features(texts) if features is None else features
        return self.classifier.predict_proba(features)[:, 1]

    def predict(self, texts=None, features=None) -> np.ndarray:
        """0/1 label of each text, (N,) int64."""
        return (self.predict_proba(texts, features) >= 0.5).astype(np.int64)

    def accuracy(self, texts, labels, features=None) -> float:
        return float(np.mean(self.predict(texts, features) == np.asarray(labels)))

    def top_features(self, k: int = 10) -> tuple[list[str], list[str]]:
        """The k n-grams that push most towards positive, and the k that push most towards negative."""
        names = self.vectorizer.get_feature_names_out()
        order = np.argsort(self.classifier.coef_[0])
        return [str(names[i]) for i in order[::-1][:k]], [str(names[i]) for i in order[:k]]


def tune_tfidf_logistic_regression(
    train_texts, train_labels, val_texts, val_labels, Cs=DEFAULT_CS, ngram_range=(1, 3), min_df: int = 2
):
    """Choose C on the validation split.

    Parameters
    ----------
    train_texts, train_labels
        the training split (labels 0/1)
    val_texts, val_labels
        the validation split, the only data C is chosen on
    Cs
        the values of C to try; ngram_range, min_df: the features (the same for every C)

    Returns
    -------
    model
        the ``TfidfLogisticRegression`` with the best validation accuracy (the smallest such C on a tie:
        the strongest penalty that does as well)
    table
        list of {"C", "val_accuracy"}, one per C, in the order of Cs
    """
    vectorizer = make_vectorizer(ngram_range, min_df)
    train_features = vectorizer.fit_transform(train_texts)
    val_features = vectorizer.transform(val_texts)
    table, best = [], None
    for C in Cs:
        model = TfidfLogisticRegression(C, ngram_range, min_df, vectorizer).fit(
            train_texts, train_labels, train_features
        )
        accuracy = model.accuracy(None, val_labels, val_features)
        table.append({"C": C, "val_accuracy": accuracy})
        if best is None or accuracy > best[0] or (accuracy == best[0] and C < best[1].C):
            best = (accuracy, model)
    return best[1], table
