"""import_cases numbers cases in bulk exactly as intake numbers one (cases.services: the day of reception in
Shanghai, then the sequence value zero-padded to 7 digits or more)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from gridgis.cases.bulk.importing import _case_numbers, _local_days

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# 1900 to 2100, sequence values of any size the column holds
moments = st.integers(-2_208_988_800_000_000, 4_102_444_800_000_000)
values = st.integers(0, 10**12)


@given(st.lists(st.tuples(moments, values), min_size=1, max_size=50))
# 1986-04-27 02:00 local: China's first summer time; the widest number made as an integer
@example([(0, 0), (515_008_800_000_000, 12_345_678), (0, 10**11 - 1)])
@example([(1_704_038_400_000_000 - 1, 9_999_999), (1_704_038_400_000_000, 10_000_000)])  # midnight in Shanghai
def test_numbers_in_bulk_are_the_ones_intake_gives(rows):
    micros = np.array([m for m, _ in rows], dtype=np.int64)
    sequence = np.array([v for _, v in rows], dtype=np.int64)
    got = _case_numbers(_local_days(micros), sequence)
    assert got == [f"{timezone.localtime(EPOCH + dt.timedelta(microseconds=m)):%Y%m%d}{v:07d}" for m, v in rows]
