"""A list reads signals as plain rows: the columns it reads are what a signal's answer shows."""

import typing

from buurtplus.domain.signals import reading


def test_a_list_reads_every_field_a_signal_record_has_and_nothing_more() -> None:
    declared = {
        name
        for cls in reading.SignalRecord.__mro__
        if getattr(cls, "_is_protocol", False)
        for name, value in vars(cls).items()
        if isinstance(value, property)
    }
    assert declared == set(reading.RECORD_COLUMNS)
    assert len(reading.RECORD_COLUMNS) == len(set(reading.RECORD_COLUMNS))
    assert typing.get_type_hints(reading.SignalReading)["signal"] is reading.SignalRecord
