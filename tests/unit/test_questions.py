"""lib.questions and the question blocks (#23): definitions, the form of a phase, answers, display."""

import pytest
from django.http import QueryDict
from wagtail.blocks import StreamValue, StructBlockValidationError

from workpro_plugin.blocks import ChoiceQuestionBlock, OfferQuestionsBlock
from workpro_plugin.lib.questions import (
    QuestionsForm,
    answers_text,
    definitions_of,
    display_answer,
    question_rows,
    questions_of_section,
)

RAW = [
    {"type": "short_text", "id": "a", "value": {"label": "Allergien", "help_text": "", "required": True, "phase": "1"}},
    {"type": "choice", "id": "b", "value": {"label": "Gruppe", "help_text": "", "required": False, "phase": "1",
                                            "choices": "Bären\n\n Füchse \n"}},
    {"type": "yes_no", "id": "c", "value": {"label": "Heimweg allein", "help_text": "", "required": True,
                                            "phase": "2"}},
    {"type": "number", "id": "d", "value": {"label": "Stunden", "help_text": "", "required": False, "phase": "1"}},
    {"type": "multiple_choice", "id": "e", "value": {"label": "Tage", "help_text": "", "required": True,
                                                     "phase": "1", "choices": "Mo\nDi"}},
]


def _definitions():
    return definitions_of(StreamValue(OfferQuestionsBlock(), RAW, is_lazy=True))


def test_definitions_are_plain_dicts_with_the_block_ids():
    definitions = _definitions()
    assert [q["id"] for q in definitions] == ["a", "b", "c", "d", "e"]
    assert definitions[1]["choices"] == ["Bären", "Füchse"]
    assert definitions[2]["phase"] == 2 and definitions[0]["required"] is True
    assert [q["id"] for q in questions_of_section(definitions, "questions_candidate")] == ["c"]


def test_the_form_validates_and_returns_json_answers():
    questions = questions_of_section(_definitions(), "questions")
    data = QueryDict(mutable=True)
    data.update({"q_a": "Nüsse", "q_b": "Füchse", "q_d": "3,5"})
    data.setlist("q_e", ["Mo", "Di"])
    form = QuestionsForm(data, questions=questions)
    assert form.is_valid(), form.errors
    assert form.answers() == {"a": "Nüsse", "b": "Füchse", "d": "3.5", "e": ["Mo", "Di"]}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("q_a", "", "Bitte beantworten Sie diese Frage."),
    ("q_b", "Löwen", "eine der Möglichkeiten"),
    ("q_d", "drei", "Bitte eine Zahl eingeben."),
    ("q_d", "1,234", "zwei Nachkommastellen"),
])
def test_bad_answers_are_refused_in_german(field, value, message):
    questions = questions_of_section(_definitions(), "questions")
    data = QueryDict(mutable=True)
    data.update({"q_a": "Nüsse", "q_b": "", "q_d": "", "q_e": "Mo", field: value})
    form = QuestionsForm(data, questions=questions)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
    assert form.raw_answers()[field[2:]] == value  # kept as typed for the draft


def test_display_uses_the_label_it_was_asked_under():
    definitions = _definitions()
    assert display_answer(definitions[2], True) == "ja" and display_answer(definitions[2], False) == "nein"
    assert display_answer(definitions[3], "3.5") == "3,5"
    assert display_answer(definitions[4], ["Mo", "Di"]) == "Mo, Di"
    assert display_answer(definitions[0], None) == "–"
    assert question_rows(definitions[:1], {"a": "keine"}) == [("Allergien", "keine")]
    assert answers_text(definitions, {"questions": {"answers": {"a": "keine"}},
                                      "questions_candidate": {"answers": {"c": True}}}).startswith(
        "Allergien: keine; Gruppe: –")


def test_a_choice_question_needs_two_distinct_options():
    block = ChoiceQuestionBlock()
    base = {"label": "Gruppe", "help_text": "", "required": True, "phase": "1"}
    with pytest.raises(StructBlockValidationError):
        block.clean(block.to_python({**base, "choices": "nur eine"}))
    with pytest.raises(StructBlockValidationError):
        block.clean(block.to_python({**base, "choices": "A\nA"}))
    assert block.clean(block.to_python({**base, "choices": "A\nB"}))["choices"] == "A\nB"
