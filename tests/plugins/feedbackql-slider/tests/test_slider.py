"""The slider kind through feedbackql_server.testing (the pytest plugin that comes with
feedbackql-server gives ``feedbackql_client``)."""

from __future__ import annotations

from feedbackql_server.testing import FeedbackQLClient, check_question_kind


def test_slider_keeps_the_contract(feedbackql_client: FeedbackQLClient) -> None:
    check_question_kind(feedbackql_client, "slider", {"min": 0, "max": 1, "step": 0.25}, [0.25, 0.5, 0.5],
                        invalid_answers=[1.5, -1], invalid_settings=[{"min": 5, "max": 1}])


def test_slider_settings_are_read_back(feedbackql_client: FeedbackQLClient) -> None:
    ws = feedbackql_client.workspace()
    dataset = feedbackql_client.dataset(ws, fields=[{"name": "prompt", "settings": {"text": {}}}],
                                        questions=[{"name": "score", "settings": {"slider": {"min": 0, "max": 10}}}])
    data = feedbackql_client("""query($id: ID!) { dataset(id: $id) { questions { settings {
        ... on SliderQuestionSettings { min max step } } } } }""", {"id": dataset})
    assert data["dataset"]["questions"] == [{"settings": {"min": 0.0, "max": 10.0, "step": 1.0}}]
