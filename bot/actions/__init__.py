"""Custom actions for the Rasa action server (rasa_sdk loads every module in this package)."""
