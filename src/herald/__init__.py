"""herald: SMS campaigns for microfinance institutions running Apache Fineract."""
