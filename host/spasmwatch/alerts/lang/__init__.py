"""The push wording in other languages: one catalog (``CATALOG``) per language, the keys and
placeholders of ``alerts.messages.EN``. Native speakers: edit the file of your language and keep
every ``{placeholder}``; tests/alerts/test_language.py checks them."""
