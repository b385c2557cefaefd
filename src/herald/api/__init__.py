"""herald's HTTP side: provider webhooks now, the REST API and Fineract endpoints as they arrive."""
