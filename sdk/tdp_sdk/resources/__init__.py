"""One module per area of the API; each public method declares the route it calls (`@route`)."""
