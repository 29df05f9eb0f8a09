"""The likert and thumbs kinds, tested only through feedbackql_server.testing (its pytest plugin
gives ``feedbackql_client``: the service with every installed plugin, on a database of its own)."""

from __future__ import annotations

from feedbackql_likert import LikertQuestion, ThumbsQuestion

from feedbackql_server.testing import FeedbackQLClient, check_question_kind


def test_likert_keeps_the_contract(feedbackql_client: FeedbackQLClient) -> None:
    check_question_kind(feedbackql_client, "likert", {}, [2, 4, 4],
                        invalid_answers=[0, 6], invalid_settings=[{"pointLabels": ["too", "few"]}])


def test_thumbs_needs_no_settings(feedbackql_client: FeedbackQLClient) -> None:
    check_question_kind(feedbackql_client, "thumbs", {}, [True, False, True], invalid_answers=["yes"])


def test_likert_labels_are_read_back_in_camel_case(feedbackql_client: FeedbackQLClient) -> None:
    labels = ["No", "Rather not", "Unsure", "Rather yes", "Yes"]
    ws = feedbackql_client.workspace()
    dataset = feedbackql_client.dataset(ws, fields=[{"name": "claim", "settings": {"text": {}}}],
                                        questions=[{"name": "agree", "settings": {"likert": {"pointLabels": labels}}}])
    data = feedbackql_client("""query($id: ID!) { dataset(id: $id) { questions { settings {
        ... on LikertQuestionSettings { pointLabels } } } } }""", {"id": dataset})
    assert data["dataset"]["questions"] == [{"settings": {"pointLabels": labels}}]


def test_unification_rules() -> None:
    likert, thumbs = LikertQuestion(), ThumbsQuestion()
    assert likert.unify(None, [1, 5, 4, 2], "median").value == 2
    assert likert.unify(None, [1, 5, 5, 1], "majority").value == 1
    assert likert.unify(None, [1, 5, 5, 1], "majority").tie
    assert thumbs.unify(None, [True, False], "majority").value is False
    assert thumbs.unify(None, [True, True, False], "majority").value is True
