"""The HTTP edge: the server, the ASGI application, Apollo's routes, the control API and the inspector.

It parses requests and renders answers; the work is the domain's.
"""
