"""The demo: a generated Fineract-shaped database, the fake providers and a scripted campaign day."""
