"""What the REST API and the UI share at the HTTP edge: authentication, errors, headers, the access log."""
