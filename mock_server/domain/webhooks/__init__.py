"""Webhook deliveries: the outbox and dispatcher, Apollo's payloads, and the checked HTTP transport."""
