"""fakeapollo's emulator: an offline stand-in for Apollo.io's People Enrichment API."""

__all__ = ["__version__"]
__version__ = "0.1.0"
