"""Fineract's business events (hooks) turned into triggered-campaign messages."""
