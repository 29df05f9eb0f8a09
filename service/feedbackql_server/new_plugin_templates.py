"""The files ``feedbackql new-plugin`` writes, as ``str.format`` templates (``{{``/``}}`` are
literal braces), one per part (question, field, task) plus the package's own files."""

PYPROJECT = '''
    [build-system]
    requires = ["setuptools>=69"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "{dist}"
    version = "0.1.0"
    description = "A FeedbackQL plugin: the {kind} question kind."
    requires-python = ">=3.11"
    dependencies = ["feedbackql-server>={server}"]

    [project.optional-dependencies]
    test = ["feedbackql-server[testing]>={server}"]

    # FeedbackQL finds the plugin through this entry-point group.
    [project.entry-points.feedbackql]
    {module} = "{module}"

    [tool.setuptools]
    packages = ["{module}"]

    # The browser widget ships inside the package, so the wheel has it.
    [tool.setuptools.package-data]
    {module} = ["*.js"]

    [tool.pytest.ini_options]
    # Registered in-process by feedbackql_server.testing, so the tests run before it is installed.
    pythonpath = ["."]
    feedbackql_plugins = ["{module}"]
'''

QUESTION = '''
    """The `{kind}` question kind: a score from 1 to the dataset's `most`."""

    from __future__ import annotations

    from collections import Counter
    from collections.abc import Hashable, Iterable, Sequence
    from typing import Annotated, Any

    from pydantic import Field

    from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified


    class {prefix}QuestionSettings(KindModel):
        """The top of the scale (the GraphQL input is `{{ most }}`)."""

        most: Annotated[int, Field(ge=2, le=10)] = 5


    class {prefix}Question(QuestionKind):
        name = "{kind}"
        description = "A score from 1 to `most`."
        settings_model = {prefix}QuestionSettings
        value_type = Annotated[int, Field(ge=1)]
        agreement = Agreement.ORDINAL
        strategies = ("majority", "max")
        widget = "widget.js"  # next to this file; served at questionTypes.widgetUrl

        def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
            if value > settings.most:
                raise ValueError(f"{{value}} is above the top of the scale, {{settings.most}}")
            return value

        def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
            """majority: the most frequent score, ties to the lower one; max: the highest."""
            if not answers:
                return Unified(None)
            disagreement = len(set(answers)) > 1
            if strategy == "max":
                return Unified(max(answers), disagreement=disagreement)
            counts = Counter(answers)
            best = max(counts.values())
            tied = sorted(score for score, count in counts.items() if count == best)
            return Unified(tied[0], tie=len(tied) > 1, disagreement=disagreement)

        def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
            return [("", answer)]
'''

TESTS_HEAD = '''
    """The {dist} plugin through the service.

    ``feedbackql_client`` comes from the pytest plugin of feedbackql-server: the app with this
    plugin, on a database of its own."""

    from __future__ import annotations

    from feedbackql_server.testing import CHECKS
'''

PART_TESTS = {
    "question": '''


    def test_the_question_kind_keeps_the_contract(feedbackql_client: FeedbackQLClient) -> None:
        check_question_kind(feedbackql_client, "{kind}", {{"most": 3}}, [1, 3, 3],
                            invalid_answers=[0, 4], invalid_settings=[{{"most": 1}}])


    def test_majority_ties_go_to_the_lower_score() -> None:
        from {module}.question import {prefix}Question

        unified = {prefix}Question().unify(None, [1, 3], "majority")
        assert (unified.value, unified.tie) == (1, True)
''',
    "field": '''


    def test_the_field_kind_keeps_the_contract(feedbackql_client: FeedbackQLClient) -> None:
        check_field_kind(feedbackql_client, "{kind}", {{"language": "python"}}, ["print(1)", "x = 2"],
                         invalid_values=["", "   "], invalid_settings=[{{"language": "Not A Language!"}}])
''',
    "task": '''


    TASK_DATA = """query($id: ID!) {{ trainingData(datasetId: $id, task: "{task}",
      options: {{question: "q"}}) {{ rows }} }}"""


    def test_the_task_gives_one_row_per_answered_record(feedbackql_client: FeedbackQLClient) -> None:
        ws = feedbackql_client.workspace()
        dataset = feedbackql_client.dataset(ws, fields=[{{"name": "prompt", "settings": {{"text": {{}}}}}}],
                                            questions=[{{"name": "q", "settings": {{"text": {{}}}}}}])
        feedbackql_client.add_records(dataset, [{{"fields": {{"prompt": "Say hi"}}}}, {{"fields": {{"prompt": "?"}}}}])
        first = feedbackql_client.records(dataset)[0]
        feedbackql_client("""mutation($r: ID!) {{ submitResponse(input: {{recordId: $r, status: SUBMITTED,
          values: [{{question: "q", value: {{text: "hi"}}}}]}}) {{ id }} }}""", {{"r": first["id"]}})
        rows = feedbackql_client(TASK_DATA, {{"id": dataset}})["trainingData"]["rows"]
        assert rows == [{{"record": first["externalId"] or first["id"], "answers": ["hi"]}}]
''',
}

WIDGET = '''
    // The {kind} kind's browser widget: one button per score. FeedbackQL's docs/plugins.md
    // ("Widgets") gives the props; plain DOM, no imports, no inline script. It lives in a shadow
    // root of its own: a <style> appended to host styles it alone, and page ids do not resolve.

    const STYLE = `button {{ font: inherit; min-width: 2.2rem; padding: .3rem .6rem; margin-right: .3rem;
      border: 1px solid #c5cad3; border-radius: 6px; background: #fff; color: #1d2330; cursor: pointer; }}
    button[aria-checked="true"] {{ background: #1f5fbf; border-color: #1f5fbf; color: #fff; }}`;

    export default function mount(host, props) {{
      const style = document.createElement("style");
      style.textContent = STYLE;
      const group = document.createElement("div");
      group.setAttribute("role", "radiogroup");
      group.setAttribute("aria-label", props.title);
      host.append(style, group);
      let current = props;

      function render() {{
        group.replaceChildren();
        const most = current.settings.most ?? 5;
        for (let score = 1; score <= most; score += 1) {{
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = String(score);
          button.setAttribute("role", "radio");
          button.setAttribute("aria-checked", String(current.value === score));
          button.disabled = Boolean(current.readOnly);
          button.addEventListener("click", () => current.onChange(current.value === score ? null : score));
          group.append(button);
        }}
        const missing = current.required && !current.readOnly && current.value === null;
        current.setValidity(missing ? "Pick a score: this question is required." : null);
      }}

      render();
      return {{
        update(next) {{
          current = next;
          render();
        }},
        destroy() {{
          host.replaceChildren();
        }},
      }};
    }}
'''

README = '''
    # {dist}

    A FeedbackQL plugin ({parts}). The question kind `{kind}` is a score from 1 to `most`
    (settings `{{ most }}`, default 5; answers `{{ {kind}: 3 }}`); the field kind `{kind}` a code
    snippet (settings `{{ language }}`); the task `{task}` gives one row per answered record.
    Widgets (`{module}/*.js`) ship in the wheel as package data.

    ```bash
    pip install -e '.[test]'   # next to feedbackql-server
    pytest                     # MONGODB_URI if set, else an embedded FerretDB
    feedbackql plugins         # lists its kinds and tasks once installed
    feedbackql serve --plugins-dir ..   # or try it without installing (this folder's parent)
    ```

    Publish it like any Python package (`python -m build`, then upload): installing it next to
    feedbackql-server adds the kind to the schema. The contract is in FeedbackQL's
    `docs/plugins.md`.
'''

INIT_HEAD = '''
    """The {dist} FeedbackQL plugin ({parts}).

    The hooks FeedbackQL calls, through the entry point in pyproject.toml."""

    from __future__ import annotations

    from feedbackql_server.kinds import KINDS
'''

HOOKS = {
    "question": '''


    @hookimpl
    def feedbackql_question_types() -> list[type[QuestionKind]]:
        from {module}.question import {prefix}Question

        return [{prefix}Question]
''',
    "field": '''


    @hookimpl
    def feedbackql_field_types() -> list[type[FieldKind]]:
        from {module}.field import {prefix}Field

        return [{prefix}Field]
''',
    "task": '''


    @hookimpl
    def feedbackql_training_tasks() -> list[type[TrainingTask]]:
        from {module}.task import {prefix}Rows

        return [{prefix}Rows]
''',
}

FIELD = '''
    """The `{kind}` field kind: a code snippet, shown monospaced, in the dataset's `language`."""

    from __future__ import annotations

    from typing import Annotated, Any

    from pydantic import Field

    from feedbackql_server.kinds import FieldKind, KindModel


    class {prefix}FieldSettings(KindModel):
        """The language of the snippets (the GraphQL input is `{{ language }}`)."""

        language: Annotated[str, Field(pattern=r"^[a-z0-9+#-]{{1,30}}$")] = "text"


    class {prefix}Field(FieldKind):
        name = "{kind}"
        description = "A code snippet, shown monospaced."
        settings_model = {prefix}FieldSettings
        value_type = str
        widget = "field_widget.js"  # next to this file; served at fieldTypes.widgetUrl

        def validate_value(self, settings: Any, value: Any) -> Any:
            if not value.strip():
                raise ValueError("the snippet is empty")
            return value

        def searchable_text(self, value: Any) -> str:
            return str(value)
'''

FIELD_WIDGET = '''
    // The {kind} field's browser widget: the snippet, monospaced. FeedbackQL's docs/plugins.md
    // ("Widgets") gives the props; plain DOM, no imports, no inline script. Its <style> stays in
    // the widget's shadow root.

    export default function mount(host, props) {{
      const style = document.createElement("style");
      style.textContent = "pre {{ font: 14px/1.5 ui-monospace, monospace; overflow-x: auto; margin: 0; }}";
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.setAttribute("aria-label", props.title);
      pre.append(code);
      host.append(style, pre);

      function render(current) {{
        code.textContent = typeof current.value === "string" ? current.value : "";
        code.dataset.language = current.settings.language ?? "text";
      }}

      render(props);
      return {{ update: render, destroy: () => host.replaceChildren() }};
    }}
'''

TASK = '''
    """The `{task}` training task: one row per answered record, with every submitted answer."""

    from __future__ import annotations

    from collections.abc import Iterable
    from typing import Any

    from feedbackql_server.kinds.tasks import Row, TaskRecord, TrainingTask


    class {prefix}Rows(TrainingTask):
        """Rows `{{record, answers}}`: the record's external id (or id) and its answers as stored."""

        name = "{task}"
        description = "One row per answered record: its id and every submitted answer."
        columns = ("record", "answers")

        def rules(self) -> dict[str, Any]:
            return {{"rows": "one per record with at least one submitted answer"}}

        def rows(self, record: TaskRecord) -> Iterable[Row]:
            if not record.answers:
                return []
            return [{{"record": record.external_id or record.id, "answers": list(record.answers)}}]
'''

PART_FILES = {
    "question": {"{module}/question.py": QUESTION, "{module}/widget.js": WIDGET},
    "field": {"{module}/field.py": FIELD, "{module}/field_widget.js": FIELD_WIDGET},
    "task": {"{module}/task.py": TASK},
}
