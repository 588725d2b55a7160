"""Both languages define the same messages, and none is empty."""

from patronage.web import i18n


def test_every_language_has_the_same_keys() -> None:
    english = i18n.catalogue("en")
    for lang in i18n.LANGUAGES:
        messages = i18n.catalogue(lang)
        assert messages.keys() == english.keys(), lang
        assert all(text.strip() for text in messages.values()), lang
