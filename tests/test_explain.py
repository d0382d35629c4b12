"""`result.explain` and `waconv explain`: one sentence per charge reason, with its facts."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import waconv
from builders import log
from waconv import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "meta"  # copies of Meta's examples

BR = "+5511987654321"


def explained(frame: pd.DataFrame, key, **options) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(frame, **options)
    return result.explain(key)


def with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    frame["message_id"] = [f"m{k}" for k in range(len(frame))]
    return frame


def test_charged_message_the_issue_example():
    frame = with_ids(log("2025-08-01 10:00", (0, "out", "marketing"), user=BR))
    assert explained(frame, "m0") == (
        "Charged 0.0625 USD: marketing template delivered 2025-08-01 10:00 UTC outside any free entry point window "
        "(per-message pricing, pmp_v1, Brazil, card USD PMP 2025-07-01, rate 0.0625 USD per message).")


def test_charged_utility_outside_the_window_and_inside_it_from_2026_10_01():
    v1 = explained(with_ids(log("2025-08-04", (0, "in"), (30, "out", "utility"))), "m1")
    assert v1.startswith("Charged 0.0068 USD: utility template delivered 2025-08-05 06:00 UTC outside any "
                         "customer service window")
    v2 = explained(with_ids(log("2026-10-05", (0, "in"), (1, "out", "utility"))), "m1")
    assert "delivered 2026-10-05 01:00 UTC inside a customer service window" in v2
    assert "from 2026-10-01" in v2 and "pmp_v2" in v2 and "card USD PMP 2026-10-01" in v2


def test_charged_service_beyond_the_allowance():
    frame = with_ids(log("2026-10-05", (0, "in"), (1, "out"), (2, "out")))
    text = explained(frame, "m2", service_free_allowance=1)
    assert text.startswith("Charged ")
    assert "after the first 1 service messages of business phone b1 in October 2026" in text
    off = explained(frame, "m1", service_free_allowance=0)
    assert "with the service allowance off" in off


def test_opened_conversation_names_it_its_times_and_the_rate_per_conversation():
    frame = with_ids(log("2024-03-04", (0, "out", "marketing"), (5, "out")))
    text = explained(frame, "m0", free_tier_conversations=0)
    assert text == ("Charged 0.0625 USD: marketing template delivered 2024-03-04 00:00 UTC opened marketing "
                    "conversation 0 (2024-03-04 00:00 UTC to 2024-03-05 00:00 UTC) (conversation-based pricing "
                    "by category, cbp_v2, Brazil, card USD CBP 2024-10-01, rate 0.0625 USD per conversation).")


def test_joined_conversation_points_to_the_row_carrying_the_charge():
    frame = with_ids(log("2024-03-04", (0, "out", "marketing"), (5, "out")))
    text = explained(frame, "m1", free_tier_conversations=0)
    assert text.startswith("Free: non-template message delivered 2024-03-04 05:00 UTC joined marketing conversation 0 "
                           "(2024-03-04 00:00 UTC to 2024-03-05 00:00 UTC), whose charge of 0.0625 USD is on row 0")


def test_free_tier_says_which_wabas_month():
    frame = with_ids(log("2022-05-02", (0, "out", "utility"), waba="w1"))
    text = explained(frame, "m0", price=False)
    assert text.startswith("Free: utility template delivered 2022-05-02 00:00 UTC opened business-initiated "
                           "conversation 0 (2022-05-02 00:00 UTC to 2022-05-03 00:00 UTC), one of the first 1,000 "
                           "eligible conversations of WABA w1 in May 2022: the monthly free tier")
    assert "not priced: classified with price=False" in text


def test_free_service_in_cbp_v2_and_pmp_v1():
    cbp = explained(with_ids(log("2024-11-04", (0, "in"), (1, "out"))), "m1")
    assert "opened service conversation 0 (2024-11-04 01:00 UTC to 2024-11-05 01:00 UTC)" in cbp
    assert "service conversations are free from 2024-11-01" in cbp
    pmp = explained(with_ids(log("2025-08-04", (0, "in"), (1, "out"))), "m1")
    assert pmp.startswith("Free: non-template message delivered 2025-08-04 01:00 UTC is a service message, free "
                          "under per-message pricing until 2026-10-01 (per-message pricing, pmp_v1, Brazil)")


def test_customer_service_window_gives_the_window():
    text = explained(with_ids(log("2025-08-04", (0, "in"), (1, "out", "utility"))), "m1")
    assert text.startswith("Free: utility template delivered 2025-08-04 01:00 UTC inside the customer service window "
                           "2025-08-04 00:00 UTC to 2025-08-05 00:00 UTC")


def test_service_allowance_gives_the_phone_and_month():
    frame = with_ids(log("2026-10-31 23:00", (0, "in"), (0.5, "out")))
    text = explained(frame, "m1")
    assert "one of the first 1,000 service messages of business phone b1 in October 2026" in text
    # The month is the WABA's: 23:30 UTC on 2026-10-31 is November in Tokyo.
    assert "in November 2026" in explained(frame.assign(waba="w"), "m1", timezones={"w": "Asia/Tokyo"})


def test_free_entry_point_opener_and_member():
    frame = with_ids(log("2025-08-04", (0, "in", None, 0.0, True), (1, "out", "marketing"), (50, "out")))
    opener = explained(frame, "m1")
    assert opener.startswith("Free: marketing template sent 2025-08-04 01:00 UTC opened the free entry point window "
                             "2025-08-04 01:00 UTC to 2025-08-07 01:00 UTC (conversation 0)")
    assert "for 72 hours" in opener
    assert "was inside the free entry point window" in explained(frame, "m2")
    assert "It came from an ad" in explained(frame, "m0")


def test_inbound_undelivered_policy_violation_and_us_pause():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "out", "marketing", None), (30, "out", None, None)))
    assert explained(frame, "m0").startswith(
        f"Free: message from {BR} received 2025-08-04 00:00 UTC; the business is never charged")
    assert "2025-08-04 00:00 UTC to 2025-08-05 00:00 UTC" in explained(frame, "m0")
    assert explained(frame, "m1") == ("Free: marketing template sent 2025-08-04 01:00 UTC was never delivered, so it "
                                      "is not charged and opens nothing (per-message pricing, pmp_v1).")
    assert "(error 131047)" in explained(frame, "m2") and "sent 2025-08-05 06:00 UTC" in explained(frame, "m2")
    us = with_ids(log("2025-08-04", (0, "out", "marketing"), user="+12125550101"))
    assert explained(us, "m0").startswith("Free: marketing template sent 2025-08-04 00:00 UTC to the US number "
                                          "+12125550101: Meta has not delivered")


def test_authentication_international_and_no_rate():
    frame = with_ids(log("2025-11-03", (0, "out", "authentication"), user="+919812345678", portfolio="acme"))
    text = explained(frame, "m0", auth_international={"acme": {"primary_country": "BR", "start": "2025-11-01"}})
    assert text.startswith("Charged 0.028 USD: authentication template delivered 2025-11-03 00:00 UTC to a user in IN")
    assert "authentication-international rate" in text and "India" in text
    unknown = explained(with_ids(log("2025-07-01 02:00", (0, "in"), (1, "out"))), "m1", rules="cbp_v1",
                        free_tier_conversations=0)
    assert unknown.startswith("Cost unknown (NaN): non-template message delivered 2025-07-01 03:00 UTC opened "
                              "user-initiated conversation 0")
    assert "no rate card has a user-initiated rate for Brazil" in unknown


def test_a_repeated_id_is_explained_at_its_first_row_and_the_repeat_by_row():
    frame = log("2025-08-01 10:00", (0, "out", "marketing"), (1, "in"), (0, "out", "marketing"), user=BR)
    frame["message_id"] = ["x", "y", "x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(frame)
    text = result.explain("x")
    assert text.startswith("Charged 0.0625 USD: marketing template delivered 2025-08-01 10:00 UTC")
    assert text.endswith("Message id 'x' appears 2 times in the log: row 2 repeats it and costs nothing.")
    assert result.explain(row=2) == ("Free: a repeat of row 0 (message id 'x', outbound); webhooks arrive at least "
                                     "once, so waconv counts the message once, at row 0.")


def test_ids_compared_as_text_and_rows_without_ids():
    frame = log("2025-08-01 10:00", (0, "out", "marketing"), user=BR)
    frame["message_id"] = [12]
    result = waconv.classify(frame)
    assert result.explain("12") == result.explain(12) == result.explain(row=0)
    plain = waconv.classify(log("2025-08-01 10:00", (0, "out", "marketing"), user=BR))
    assert plain.explain(0) == plain.explain(row=0)
    assert plain.explain(0).startswith("Charged 0.0625 USD")


def test_text_and_epoch_times_read_as_the_rules_read_them():
    frame = with_ids(log("2025-08-01 10:00", (0, "out", "marketing"), user=BR))
    as_text = frame.assign(timestamp=["2025-08-01T10:00:00Z"], delivered_at=["2025-08-01T10:00:30Z"])
    assert "delivered 2025-08-01 10:00:30 UTC" in explained(as_text, "m0")
    epoch = frame.drop(columns="delivered_at").assign(timestamp=[1754042400], status=["delivered"])
    assert "delivered 2025-08-01 10:00 UTC" in explained(epoch, "m0")


def test_errors_name_the_argument():
    result = waconv.classify(with_ids(log("2025-08-01 10:00", (0, "out", "marketing"), user=BR)))
    with pytest.raises(waconv.InputError, match="column 'message_id': no message has id 'nope'"):
        result.explain("nope")
    with pytest.raises(waconv.InputError, match=r"column 'row', row 5: out of range: the result has 1 messages"):
        result.explain(row=5)
    with pytest.raises(waconv.InputError, match="out of range"):
        result.explain(row=-1)
    with pytest.raises(waconv.InputError, match="expected a row number"):
        result.explain(row=True)
    with pytest.raises(waconv.InputError, match="not both or neither"):
        result.explain()
    with pytest.raises(waconv.InputError, match="not both or neither"):
        result.explain("m0", row=0)


def test_every_reason_has_a_sentence_on_the_example_log():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(waconv.examples.log(), timezones=waconv.examples.TIMEZONES)
    m = result.messages
    for reason in m["charge_reason"].unique():
        row = int((m["charge_reason"] == reason).to_numpy().argmax())
        text = result.explain(row=row)
        assert text.startswith(("Charged ", "Free: ", "Cost unknown")), (reason, text)
        assert text.startswith("Charged ") == (m["cost"].iloc[row] > 0)


def test_cli_explain(tmp_path, capsys):
    frame = with_ids(log("2025-08-01 10:00", (0, "out", "marketing"), (1, "out", "marketing"), user=BR))
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    assert cli.main(["explain", str(path), "m0", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Charged 0.0625 USD: marketing template delivered 2025-08-01 10:00 UTC")
    assert cli.main(["explain", str(path), "1", "--row", "-q"]) == 0
    assert "2025-08-01 11:00 UTC" in capsys.readouterr().out
    assert cli.main(["explain", str(path), "m0", "--rules", "pmp_v2", "-q"]) == 0
    assert "pmp_v2" in capsys.readouterr().out
    assert cli.main(["explain", str(path), "m0", "--no-price", "-q"]) == 0
    assert "not priced" in capsys.readouterr().out
    zoned = tmp_path / "zoned.csv"
    moment = "2025-07-01T01:00:00Z"  # pmp_v1 in UTC, 22:00 on June 30 in São Paulo: still cbp_v2 there
    frame.assign(waba="w", timestamp=moment, delivered_at=moment).to_csv(zoned, index=False)
    assert cli.main(["explain", str(zoned), "m0", "-q"]) == 0
    assert "per-message pricing, pmp_v1" in capsys.readouterr().out
    assert cli.main(["explain", str(zoned), "m0", "--timezone", "w=America/Sao_Paulo", "-q"]) == 0
    assert "conversation-based pricing by category, cbp_v2" in capsys.readouterr().out
    assert cli.main(["explain", str(path), "nope", "-q"]) == 2
    assert "waconv: column 'message_id': no message has id 'nope'" in capsys.readouterr().err
    assert cli.main(["explain", str(path), "x", "--row", "-q"]) == 2
    assert "argument MESSAGE_ID: with --row, expected a row number" in capsys.readouterr().err
    assert cli.main(["explain", str(path), "9", "--row", "-q"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_the_window_sentence_names_the_users_last_message_as_the_clue():
    frame = with_ids(log("2025-08-12 10:00", (0, "in"), (1, "out", "utility")))
    frame["message_type"] = ["reaction", None]
    text = explained(frame, "m1")
    assert "(the user's last message before it: row 0, a reaction, at 2025-08-12 10:00 UTC)" in text


def test_an_undelivered_row_says_the_logs_status():
    frame = with_ids(log("2025-07-04 10:00", (0, "out", "utility", None)))
    frame["status"] = ["sent"]
    assert "was never delivered (the log says: status sent)" in explained(frame.drop(columns="delivered_at"), "m0")


def test_a_failed_webhook_send_gives_metas_error_code_beside_the_rule():
    # Meta's example of a failed send (131049, a marketing limit): a status carries no template
    # category, so the rules see a non-template message outside the window; the log's own
    # error is said beside the rule's reading.
    result = waconv.classify(waconv.read_webhooks(FIXTURES / "status_failed_131049_meta.json"))
    text = result.explain(row=0)
    assert text.startswith("Free: non-template message sent 2025-06-28 20:34:48 UTC outside any customer service "
                           "window was never delivered (the log says: status failed, error 131049)")


def test_an_id_shared_with_the_other_direction_is_another_message():
    frame = log("2025-08-01 10:00", (0, "out", "marketing"), (1, "in"), (0, "out", "marketing"), user=BR)
    frame["message_id"] = ["x", "x", "x"]
    text = explained(frame, "x")
    assert text.startswith("Charged 0.0625 USD")
    assert text.endswith("Message id 'x' appears 3 times in the log: row 2 repeats it and costs nothing, "
                         "row 1 (the other direction) is another message.")
