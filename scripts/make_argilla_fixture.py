"""Write tests/fixtures/argilla/: a small feedback dataset made by Argilla 1.x itself, offline.

The migration test (tests/test_argilla_import.py) needs data that no one here wrote: this script
builds a ``FeedbackDataset`` with Argilla's own SDK (text fields; rating, label, multi-label,
ranking and text questions; suggestions; responses of three users; metadata), and saves

- ``dataset/``: ``FeedbackDataset.format_as("datasets")`` written with ``save_to_disk`` — what
  ``feedbackql import --from argilla`` reads;
- ``formatted.jsonl``: the same ``format_as("datasets")`` rows as JSON, Argilla's own formatting
  of the records, which the test compares FeedbackQL's export with;
- ``users.json``: the Argilla user ids of the responses and the usernames they stand for.

Run it in a separate virtual environment (Argilla 1.x pins old packages):

    python3 -m venv /tmp/argilla-venv
    /tmp/argilla-venv/bin/pip install "argilla==1.29.1" "pyarrow<16" "datasets<3"
    /tmp/argilla-venv/bin/python scripts/make_argilla_fixture.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import argilla as rg

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "argilla"
USERS = {"ann": "3b9a0f51-0c8e-4d6a-9a35-9f1b0b0a0001", "bob": "3b9a0f51-0c8e-4d6a-9a35-9f1b0b0a0002",
         "cyd": "3b9a0f51-0c8e-4d6a-9a35-9f1b0b0a0003"}
TOPICS = ["math", "code", "poetry"]
TAGS = ["short", "tricky", "funny"]
ANSWERS = ["a", "b", "c"]


def dataset() -> rg.FeedbackDataset:
    return rg.FeedbackDataset(
        guidelines="Rate each prompt, pick its topic, tag it and rank the answers.",
        fields=[rg.TextField(name="prompt"), rg.TextField(name="context", required=False, use_markdown=True)],
        questions=[
            rg.RatingQuestion(name="quality", values=[1, 2, 3, 4, 5]),
            rg.LabelQuestion(name="topic", labels=TOPICS, required=False),
            rg.MultiLabelQuestion(name="tags", labels=TAGS, required=False),
            rg.RankingQuestion(name="order", values=ANSWERS, required=False),
            rg.TextQuestion(name="note", required=False),
        ],
        metadata_properties=[rg.TermsMetadataProperty(name="source"), rg.IntegerMetadataProperty(name="length")],
    )


def ranking(first: int) -> list[dict[str, Any]]:
    order = ANSWERS[first:] + ANSWERS[:first]
    return [{"value": value, "rank": rank} for rank, value in enumerate(order, start=1)]


def responses(i: int) -> list[dict[str, Any]]:
    """Two or three users per record: submitted, one draft, one discarded."""
    out = [{"user_id": USERS["ann"], "status": "submitted",
            "values": {"quality": {"value": 1 + i % 5}, "topic": {"value": TOPICS[i % 3]},
                       "tags": {"value": TAGS[: 1 + i % 3]}, "order": {"value": ranking(i % 3)}}},
           {"user_id": USERS["bob"], "status": "submitted" if i % 4 else "draft",
            "values": {"quality": {"value": 5 - i % 5}, "note": {"value": f"Bob's note on {i}:\n- fine"}}}]
    if i % 3 == 0:
        out.append({"user_id": USERS["cyd"], "status": "discarded", "values": {}})
    return out


def suggestions(i: int) -> list[dict[str, Any]]:
    if i % 2:
        return []
    return [{"question_name": "quality", "value": 3, "score": 0.75, "agent": "model-x"},
            {"question_name": "topic", "value": TOPICS[(i + 1) % 3], "score": 0.5, "agent": "model-x"},
            {"question_name": "tags", "value": ["tricky"], "agent": "model-y"},
            {"question_name": "order", "value": ranking(1), "agent": "model-y"}]


def records() -> list[rg.FeedbackRecord]:
    return [rg.FeedbackRecord(
        fields={"prompt": f"Prompt number {i}: what is {i} + {i}?",
                **({"context": f"**Context** for {i}"} if i % 2 == 0 else {})},
        metadata={"source": "web" if i % 3 else "book", "length": 10 + i},
        external_id=f"arg-{i}", suggestions=suggestions(i), responses=responses(i))
        for i in range(8)]


def main() -> None:
    feedback = dataset()
    feedback.add_records(records())
    formatted = feedback.format_as("datasets")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    formatted.save_to_disk(str(OUT / "dataset"))
    with (OUT / "formatted.jsonl").open("w", encoding="utf-8") as rows:
        for row in formatted:
            rows.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (OUT / "users.json").write_text(json.dumps({uuid: name for name, uuid in USERS.items()}, indent=1) + "\n")
    print(f"wrote {formatted.num_rows} records to {OUT}")


if __name__ == "__main__":
    main()
