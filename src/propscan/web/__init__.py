"""Deliver on the web: the page and the REST API behind ``propscan serve`` (see ``app.create_app``)."""
