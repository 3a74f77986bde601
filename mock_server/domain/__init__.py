"""The domain: matching, persons, keys, limits, credits, scenarios, journal, webhooks, clock, stores.

It never imports a web framework; state sits behind the `Store` protocol of `store.py`.
"""
