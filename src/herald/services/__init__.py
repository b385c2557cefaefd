"""Services: what herald does, each with narrow explicit dependencies, called by the entry points."""
