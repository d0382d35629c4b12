"""Inputs that used to escape as other exception types, or to give silently wrong results
(issue #11): each is now an InputError naming the column or argument, the first bad row and
the reason, or is read correctly."""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import waconv
from builders import log

VERDICTS = ["pricing_category", "pricing_type", "conversation_id", "csw_open"]


def good() -> pd.DataFrame:
    return log("2024-03-04", (0, "in"), (1, "out"), (2, "out", "marketing"))


def two_users() -> pd.DataFrame:
    """Rows of two users interleaved, so wrongly read ids would change the verdicts."""
    frame = log("2024-03-04", (0, "in"), (1, "in"), (2, "out"), (3, "out", "marketing"), (30, "out", "utility"))
    frame["user"] = ["+5511987654321", "+5511912345678", "+5511912345678", "+5511987654321", "+5511912345678"]
    frame["message_id"] = [f"wamid.{k}" for k in range(len(frame))]
    return frame


def raises(frame, column, row, fragment, **kwargs) -> waconv.InputError:
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(frame, **kwargs)
    assert info.value.column == column
    assert info.value.row == row
    assert fragment in info.value.reason
    return info.value


def verdicts(events, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)  # rate-card gaps are not the subject
        result = waconv.classify(events, **kwargs)
    out = result.messages[VERDICTS].reset_index(drop=True)
    out["user"] = pd.Series(list(result.messages["user"]), dtype=object)  # whatever the input's dtype
    return out


def object_column(values) -> pd.Series:
    return pd.Series(values, dtype=object)


def test_a_duplicated_column_name_that_waconv_reads():
    frame = good()
    frame.insert(1, "user", frame["user"], allow_duplicates=True)
    raises(frame, "user", None, "2 columns have this name")
    # A duplicated column waconv does not read comes back, both copies; Arrow output needs
    # distinct names, and says so before anything is computed.
    other = good()
    other["note"] = 1
    other.insert(0, "note", 2, allow_duplicates=True)
    messages = waconv.classify(other, price=False).messages
    assert list(messages.columns).count("note") == 2
    raises(other, "note", None, "needs distinct names", output="arrow")


def test_a_string_where_a_mapping_is_expected():
    raises(good(), "timezones", None, "expected a mapping of WABA id", timezones="UTC")
    raises(good(), "columns", None, "expected a mapping of waconv column name", columns="user")
    raises(good(), "columns", None, "'user' is mapped to ['wa_id'], not a column name", columns={"user": ["wa_id"]})
    raises(good(), "timezones", None, "time zone of WABA 'b1' must be a string, got 5", timezones={"b1": 5})
    raises(good(), "timezones", None, "unknown time zone 'Mars/Olympus'", timezones={"b1": "Mars/Olympus"})
    raises(good(), "timezones", None, "unknown time zone", timezones={"b1": "Europe/Berl\ud800n"})
    # A Series keyed by WABA id is a mapping too.
    by_series = verdicts(good(), timezones=pd.Series({"b1": "America/Sao_Paulo"}))
    pd.testing.assert_frame_equal(by_series, verdicts(good(), timezones={"b1": "America/Sao_Paulo"}))


@pytest.mark.parametrize("threads", [None, -1, 1.5, "2", True, False, 2.0, np.float64(2)])
def test_bad_threads(threads):
    raises(good(), "threads", None, "expected a non-negative integer", threads=threads)


def test_counts_beyond_the_core_integers_are_no_limit():
    # The core takes C++ integers; a larger count means "no limit" and must not overflow.
    expected = verdicts(two_users(), threads=0, free_tier_conversations=1000)
    pd.testing.assert_frame_equal(verdicts(two_users(), threads=10**30), expected)
    pd.testing.assert_frame_equal(verdicts(two_users(), threads=np.int64(1)), expected)
    pd.testing.assert_frame_equal(verdicts(two_users(), free_tier_conversations=10**30), expected)


@pytest.mark.parametrize("argument", ["direct_billing", "failed_freeform_opens_conversation", "price"])
def test_flags_must_be_booleans(argument):
    # price="no" used to price (a non-empty string is true); the others reached the core.
    raises(good(), argument, None, "expected True or False", **{argument: "no"})


def test_lone_surrogates_in_string_columns():
    # Text decoded with errors="surrogateescape" holds lone surrogates, which UTF-8 (Arrow, the
    # core) cannot encode; each column waconv reads reports the first such row.
    cases = {
        "user": ["+5511987654321", "+55119876\udc80", "+5511987654321"],
        "business": ["b1", "b\ud800", "b1"],
        "waba": ["w1", "w\ud800", "w1"],
        "portfolio": ["p1", "p\ud800", "p1"],
        "message_id": ["wamid.0", "wamid.\ud800", "wamid.2"],
        "user_country": [None, "B\ud800", None],
        "direction": ["inbound", "outbound\ud800", "outbound"],
    }
    for column, values in cases.items():
        raises(good().assign(**{column: object_column(values)}), column, 1, "lone surrogate")
    python_strings = good().assign(user=pd.Series(cases["user"], dtype=pd.StringDtype("python")))
    raises(python_strings, "user", 1, "lone surrogate")
    categories = pd.Categorical.from_codes([0, 1, 0], categories=pd.Index(["b1", "b\ud800"], dtype=object))
    raises(good().assign(business=categories), "business", 1, "lone surrogate")


def test_arrow_string_view_columns_are_read_as_strings():
    expected = verdicts(two_users())
    views = two_users()
    for column in ("business", "user", "direction", "template_category", "message_id"):
        views[column] = views[column].astype(pd.ArrowDtype(pa.string())).astype(pd.ArrowDtype(pa.string_view()))
    pd.testing.assert_frame_equal(verdicts(views), expected)
    table = pa.Table.from_pandas(two_users(), preserve_index=False)
    for column in ("business", "user", "direction"):
        position = table.schema.get_field_index(column)
        table = table.set_column(position, column, table.column(column).cast(pa.string_view()))
    pd.testing.assert_frame_equal(verdicts(table), expected)
    # Dictionary-encoded views: Arrow has no kernel to decode them directly.
    position = table.schema.get_field_index("user")
    encoded = table.column("user").dictionary_encode()
    table = table.set_column(position, "user", pa.chunked_array(
        [pa.DictionaryArray.from_arrays(chunk.indices, chunk.dictionary.cast(pa.string_view()))
         for chunk in encoded.chunks]))
    assert table.schema.field("user").type.value_type == pa.string_view()
    pd.testing.assert_frame_equal(verdicts(table), expected)


def test_arrow_table_with_pandas_categorical_columns():
    expected = verdicts(two_users())
    frame = two_users()
    for column in ("user", "direction", "template_category", "business"):  # template_category holds nulls
        frame[column] = frame[column].astype("category")
    table = pa.Table.from_pandas(frame)
    assert b"categorical" in table.schema.metadata[b"pandas"]
    pd.testing.assert_frame_equal(verdicts(table), expected)
    pd.testing.assert_frame_equal(verdicts(frame), expected)


def test_lists_and_dicts_in_id_and_category_columns():
    cases = {
        "direction": (["inbound", ["outbound"], "outbound"], "['outbound'] (a list)"),
        "template_category": ([None, None, {"name": "marketing"}], "(a dict)"),
        "referral": ([False, [True], False], "(a list)"),
        "message_id": (["wamid.0", ["wamid.1"], "wamid.2"], "(a list)"),
        "user": (["+5511987654321", ("+5511987654321",), "+5511987654321"], "(a tuple)"),
        "business": ([["b1"], ["b1"], ["b1"]], "(a list)"),
    }
    for column, (values, fragment) in cases.items():
        row = next(k for k, v in enumerate(values) if isinstance(v, (list, dict, tuple)))
        raises(good().assign(**{column: object_column(values)}), column, row, fragment)
    status = good().drop(columns="delivered_at").assign(status=object_column(["read", ["read"], "read"]))
    raises(status, "status", 1, "not a single value")


def test_text_timestamps_with_a_null_on_a_repeated_index():
    frame = good()
    frame.index = [0, 0, 1]
    frame["timestamp"] = object_column(["2024-03-04T00:00:00Z", None, "2024-03-04T02:00:00Z"]).set_axis(frame.index)
    raises(frame, "timestamp", 1, "null timestamp")
    # Delivery times are placed by position too: row 2 (never delivered) once took row 1's
    # delivery, the label they share.
    unique = good()
    unique["delivered_at"] = object_column([None, "2024-03-04T01:00:00Z", None])
    expected = verdicts(unique)
    assert pd.isna(expected.pricing_category[2])
    pd.testing.assert_frame_equal(verdicts(unique.set_axis([1, 0, 0])), expected)


def test_timestamps_mixing_types_or_beyond_the_years_of_int64_nanoseconds():
    stamps = good()["timestamp"]
    seconds = [int(t.timestamp()) for t in stamps]
    iso = [t.isoformat() for t in stamps]
    raises(good().assign(timestamp=object_column([iso[0], seconds[1], iso[2]])), "timestamp", 1, "mixed value types")
    raises(good().assign(timestamp=object_column([seconds[0], iso[1], seconds[2]])), "timestamp", 1,
           "mixed value types")
    # Python ints are epoch seconds, as in an int64 column (not nanoseconds since 1970).
    expected = verdicts(good().assign(timestamp=seconds))
    pd.testing.assert_frame_equal(verdicts(good().assign(timestamp=object_column(seconds))), expected)
    raises(good().assign(timestamp=object_column([seconds[0], 10**30, seconds[2]])), "timestamp", 1,
           "epoch seconds outside")
    # 2600 does not fit int64 nanoseconds: it once wrapped around to 2015 and was accepted.
    for when in ("2600-01-01T00:00:00Z", "3000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"):
        raises(good().assign(timestamp=object_column([iso[0], when, iso[2]])), "timestamp", 1, "outside 2000-01-01")
        raises(good().assign(delivered_at=object_column([None, when, iso[2]])), "delivered_at", 1,
               "outside 2000-01-01")
    precise = pd.Timestamp("2024-03-04 00:00:00.000000001", tz="UTC")
    far = datetime.datetime(2600, 1, 1, tzinfo=datetime.timezone.utc)
    raises(good().assign(timestamp=object_column([precise, far, stamps[2]])), "timestamp", 1, "outside 2000-01-01")


def test_a_timezones_key_naming_no_waba_is_reported():
    with pytest.warns(waconv.WaconvWarning, match="timezones key 'b2' names no WABA of the log"):
        waconv.classify(good(), timezones={"b1": "America/Sao_Paulo", "b2": "Europe/Berlin"}, price=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", waconv.WaconvWarning)
        waconv.classify(good(), timezones={"b1": "America/Sao_Paulo"}, price=False)
        waconv.classify(good().assign(waba=7), timezones={"7": "America/Sao_Paulo"}, price=False)  # "7" names 7


def test_object_columns_arrow_cannot_hold_are_reported_on_arrow_output():
    frame = good().assign(note=object_column([1, "one", None]))
    assert waconv.classify(frame, price=False).messages["note"].tolist()[:2] == [1, "one"]
    for output in ("arrow", "polars"):
        raises(frame, "note", 1, "cannot be written to Arrow", output=output, price=False)


def test_a_series_or_other_column_is_not_a_table():
    # A Series exports an Arrow stream too (of strings, not of rows): pa.table() refused it
    # with ArrowInvalid.
    for column in (pd.Series(["b1"]), pa.chunked_array([["b1"]]), pa.array(["b1"])):
        error = raises(column, "events", None, "expected a pandas DataFrame, pyarrow Table or polars DataFrame")
        assert "one column, not a table" in error.reason

    class Stream:  # any other Arrow producer whose stream is not a table
        def __arrow_c_stream__(self, requested_schema=None):
            return pa.chunked_array([[1, 2]]).__arrow_c_stream__(requested_schema)

    raises(Stream(), "events", None, "its Arrow stream is not a table")

    class Rows:  # ... and one whose stream is a table
        def __init__(self, table):
            self.table = table

        def __arrow_c_stream__(self, requested_schema=None):
            return self.table.__arrow_c_stream__(requested_schema)

    table = pa.Table.from_pandas(two_users(), preserve_index=False)
    pd.testing.assert_frame_equal(verdicts(Rows(table)), verdicts(table))
    # Arrow types pandas' split blocks refuse are read the default way, or named when pandas
    # has no column for them at all.
    runs = table.set_column(1, "user", pa.chunked_array([pc.run_end_encode(table.column("user").chunk(0))]))
    pd.testing.assert_frame_equal(verdicts(runs), verdicts(table))
    union = pa.UnionArray.from_sparse(pa.array([0] * 5, type=pa.int8()), [pa.array(range(5)), pa.array(["a"] * 5)])
    raises(table.append_column("note", union), "note", None, "pandas cannot hold")


def one_row(**columns) -> pd.DataFrame:
    frame = pd.DataFrame({"business": object_column(["b1"]), "user": ["+5511987654321"],
                          "timestamp": pd.to_datetime(["2025-08-01"], utc=True), "direction": ["inbound"]})
    return frame.assign(**columns)


def test_object_columns_come_back_as_object_columns():
    # The result was built from the columns' arrays, and pandas 3 infers `str` from an object
    # array: the input's column came back changed.
    frame = two_users().assign(business=object_column(["b1"] * 5), note=object_column(["a", 1, None, "b", 2.5]))
    for events in (frame, frame.set_axis([3, 3, 0, 3, 1])):  # a repeated index must not align rows
        messages = waconv.classify(events, price=False).messages
        for column in ("business", "note"):
            assert messages[column].dtype == object
            pd.testing.assert_series_equal(messages[column], events[column])
        pd.testing.assert_index_equal(messages.index, events.index)
    assert waconv.classify(one_row(), price=False).messages["business"].dtype == object
    # A lone surrogate in a column waconv does not read comes back as it was (pandas' str
    # inference encoded it to UTF-8 and raised UnicodeEncodeError).
    messages = waconv.classify(one_row(note=object_column(["a\ud800"])), price=False).messages
    assert messages["note"].dtype == object and messages["note"][0] == "a\ud800"


def test_a_string_view_delivered_at_column_is_text():
    ts = object_column(["2025-08-01T00:00:00Z"])
    views = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(["2025-08-01T00:00:05Z"], type=pa.string_view())))
    expected = pd.Timestamp("2025-08-01T00:00:05Z")
    for timestamp in (ts, pd.to_datetime(ts, utc=True)):
        frame = one_row(timestamp=timestamp, direction=["outbound"], delivered_at=views)
        messages = waconv.classify(frame, price=False).messages
        assert messages["delivered_at"].dtype == pd.DatetimeTZDtype("ns", "UTC")
        assert messages["delivered_at"][0] == expected
    # An inbound row's delivery is parsed from the view column too.
    inbound = one_row(timestamp=ts, delivered_at=views)
    assert waconv.classify(inbound, price=False).messages["delivered_at"][0] == expected
    # A naive Arrow timestamp column beside converted text is localized, as a numpy one is.
    naive = pd.Series(pd.arrays.ArrowExtensionArray(pa.array([pd.Timestamp("2025-08-01T00:00:05")])))
    messages = waconv.classify(one_row(timestamp=object_column(["2025-08-01T00:00:00"]), direction=["outbound"],
                                       delivered_at=naive), price=False).messages
    assert messages["delivered_at"][0] - messages["timestamp"][0] == pd.Timedelta(seconds=5)


def test_sparse_columns_on_arrow_output():
    frame = one_row(status=pd.Series(["delivered"], dtype="Sparse[object]"), n=pd.Series([0], dtype="Sparse[int64]"))
    for output in ("arrow", "polars"):
        messages = waconv.classify(frame, output=output, price=False).to_pandas().messages
        assert messages["status"].tolist() == ["delivered"] and messages["n"].tolist() == [0]


def test_arrow_dictionary_columns_come_back_to_pandas():
    # The pandas metadata names the column's dtype "dictionary<...>[pyarrow]", which pandas
    # cannot parse back: to_pandas() raised TypeError.
    kinds = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(["text"], type=pa.dictionary(pa.int8(), pa.string()))))
    frame = one_row(message_type=kinds)
    back = waconv.classify(frame, output="arrow", price=False).to_pandas()
    assert back.messages["message_type"].dtype == kinds.dtype
    pd.testing.assert_series_equal(back.messages["message_type"], kinds, check_names=False)
    assert isinstance(back.messages["pricing_type"].dtype, pd.CategoricalDtype)  # waconv's own stay categorical
    assert back.messages["era"].tolist() == waconv.classify(frame, price=False).messages["era"].tolist()


def test_rate_card_currency_is_a_three_letter_code():
    import io
    import datetime as dt

    text = ("Cost per message in USD, effective July 1, 2026\nMarket,Currency,Marketing,Utility,Authentication\n"
            "India,{},0.01,0.001,0.001\n")
    for currency in (5, "", "US", "USDX", "U5D", b"USD", "€€€"):
        with pytest.raises(waconv.InputError) as info:
            waconv.RateCard.from_csv(io.StringIO(text.format("USD")), currency=currency)
        assert info.value.column == "currency" and "3-letter ISO 4217 code" in info.value.reason
        with pytest.raises(waconv.InputError, match="3-letter ISO 4217 code"):
            waconv.RateCard(dt.date(2026, 7, 1), "PMP", currency, {"India": {"utility": 0.01}})
    with pytest.raises(waconv.InputError) as info:
        waconv.RateCard.from_csv(io.StringIO(text.format("Rupees")))
    assert (info.value.column, info.value.line) == ("Currency", 3)
    assert waconv.RateCard.from_csv(io.StringIO(text.format("usd"))).currency == "USD"
    assert waconv.RateCard.from_csv(io.StringIO(text.format("INR")), currency="usd").currency == "USD"
    card = waconv.RateCard.from_csv(io.StringIO(text.format("USD")), effective="2031-01-01")
    shipped = waconv.RateCards.default().cards
    assert len(waconv.RateCards([card, *shipped]).cards) == len(shipped) + 1
    with pytest.raises(waconv.InputError, match="not a RateCard"):
        waconv.RateCards([card, "USD"])
    with pytest.raises(waconv.InputError, match="a mapping of market"):
        waconv.RateCard(dt.date(2026, 7, 1), "PMP", "USD", {"India": 0.01})


def test_sparse_columns_waconv_reads_are_read_densely():
    # A Sparse message_id reached the tie-break's Arrow conversion, which raised ArrowTypeError.
    frame = pd.concat([one_row(), one_row()], ignore_index=True).assign(
        message_id=pd.Series(["m1", "m1"], dtype="Sparse[object]"),
        direction=pd.Series(["inbound", "inbound"], dtype="Sparse[object]"))
    messages = waconv.classify(frame, price=False).messages
    assert messages["duplicate"].tolist() == [False, True]
    assert isinstance(messages["message_id"].dtype, pd.SparseDtype)  # the input column comes back as given


def test_an_all_null_text_delivery_column_leaves_the_naive_timestamps_as_given():
    # Found by the long fuzz run: the empty delivered_at counted as text, so the naive
    # timestamp column beside it came back localized to UTC.
    naive = pd.Series(pd.arrays.ArrowExtensionArray(pa.array([946684800000] * 2, type=pa.timestamp("ms"))))
    frame = pd.concat([one_row(), one_row()], ignore_index=True).assign(
        timestamp=naive, delivered_at=object_column([None, None]))
    messages = waconv.classify(frame, price=False).messages
    pd.testing.assert_series_equal(messages["timestamp"], frame["timestamp"])
    pd.testing.assert_series_equal(messages["delivered_at"], frame["delivered_at"])
